#include "unitfile/unit_loader.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace gitvisor::unitfile;
using namespace gitvisor::unitfile::testing;
using Strings = std::vector<std::string>;

TEST_CASE("a plain service loads with typed values", "[loader]") {
    const LoadedUnit u = load(
        "[Unit]\n"
        "Description=Web server on %H\n"
        "After=network.target db.service\n"
        "[Service]\n"
        "Type=notify\n"
        "ExecStart=/usr/bin/web --port 80\n"
        "Restart=on-failure\n"
        "RestartSec=1h30m\n"
        "TimeoutStopSec=0\n"
        "MemoryMax=1.5G\n"
        "CPUQuota=150.5%\n"
        "TasksMax=10%\n"
        "KillSignal=INT\n"
        "UMask=027\n"
        "LimitNOFILE=1024:4096\n"
        "NoNewPrivileges=YES\n",
        "web.service");
    CHECK(messages(u).empty());
    CHECK(*u.unit.get<std::string>("Unit", "Description") == "Web server on host1.example.org");
    CHECK(*u.unit.get<Strings>("Unit", "After") == Strings{"network.target", "db.service"});
    CHECK(*u.unit.get<std::string>("Service", "Type") == "notify");
    CHECK(u.unit.get<Duration>("Service", "RestartSec")->usec == 5400ull * 1000000);
    CHECK(u.unit.get<Duration>("Service", "TimeoutStopSec")->usec == kInfinity);
    CHECK(*u.unit.get<Limit>("Service", "MemoryMax") == Limit{Limit::Kind::Value, 1610612736});
    CHECK(*u.unit.get<Limit>("Service", "CPUQuota") == Limit{Limit::Kind::Percent, 15050});
    CHECK(*u.unit.get<Limit>("Service", "TasksMax") == Limit{Limit::Kind::Percent, 1000});
    CHECK(u.unit.get<Signal>("Service", "KillSignal")->number == 2);
    CHECK(u.unit.get<Mode>("Service", "UMask")->bits == 027);
    CHECK(*u.unit.get<RLimit>("Service", "LimitNOFILE") == RLimit{1024, 4096});
    CHECK(*u.unit.get<bool>("Service", "NoNewPrivileges"));
    const auto& start = exec_of(u, "ExecStart");
    REQUIRE(start.size() == 1);
    CHECK(start[0].argv == Strings{"/usr/bin/web", "--port", "80"});
    const Setting* restart = u.unit.find("Service", "Restart");
    CHECK(restart->line == 7);
    CHECK(restart->file == "web.service");
}

TEST_CASE("an invalid value of a known directive is an error naming file, line and cause", "[loader]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "ExecStart=/bin/true\n"
        "Restart=sometimes\n"
        "Type=Simple\n"
        "MemoryMax=1g\n"
        "TimeoutStartSec=forever\n"
        "RestartSec=\n");
    const Strings m = messages(u);
    REQUIRE(m.size() == 5);
    CHECK(m[0].starts_with("test.service:3: error: invalid value 'sometimes' for Restart=: expected one of no, "));
    CHECK(m[1].starts_with("test.service:4: error: invalid value 'Simple' for Type=: expected one of "));
    CHECK(m[1].ends_with("(values are case-sensitive)"));
    CHECK(m[2].starts_with("test.service:5: error: invalid value '1g' for MemoryMax=: "));
    CHECK(m[3].starts_with("test.service:6: error: invalid value 'forever' for TimeoutStartSec=: "));
    CHECK(m[4].starts_with("test.service:7: error: invalid value '' for RestartSec=: empty value"));
    CHECK_FALSE(u.ok());
}

TEST_CASE("unknown and unsupported directives are warnings, with suggestions", "[loader]") {
    const LoadedUnit u = load(
        "[Unit]\n"
        "Descripton=typo\n"
        "[service]\n"
        "ExecStart=/bin/false\n"
        "[Service]\n"
        "execstart=/bin/true\n"
        "ExecStart=/bin/true\n"
        "PrivateNetwork=yes\n"
        "X-Custom=anything\n"
        "[X-Team]\n"
        "Owner=ops\n");
    CHECK(messages(u) == Strings{
                             "test.service:2: warning: unknown directive 'Descripton=' in [Unit] (did you mean "
                             "'Description='?), ignoring",
                             "test.service:3: warning: unknown section '[service]' (did you mean '[Service]'?), ignoring",
                             "test.service:6: warning: unknown directive 'execstart=' in [Service] (did you mean "
                             "'ExecStart='?), ignoring",
                             "test.service:8: warning: PrivateNetwork= is not supported by gitvisor, ignoring",
                         });
    CHECK(u.ok());
    // The ExecStart= of the unknown section did not count.
    CHECK(exec_of(u, "ExecStart").size() == 1);
    CHECK(*u.unit.get<Strings>("X-Team", "Owner") == Strings{"ops"});
    CHECK(*u.unit.get<Strings>("Service", "X-Custom") == Strings{"anything"});
}

TEST_CASE("repeated keys build lists, an empty assignment resets them", "[loader]") {
    const LoadedUnit u = load(
        "[Unit]\n"
        "After=a.service\n"
        "After=\n"
        "After=b.service\n"
        "[Service]\n"
        "Environment=A=1 B=2\n"
        "Environment=\"C=x y\" A=3\n"
        "ExecStartPre=/bin/one\n"
        "ExecStartPre=-/bin/two\n"
        "ExecStart=/bin/first\n"
        "ExecStart=\n"
        "ExecStart=/bin/second\n"
        "EnvironmentFile=-/etc/default/x\n"
        "EnvironmentFile=\n"
        "EnvironmentFile=/etc/y\n");
    CHECK(messages(u) == Strings{
                             "test.service:3: warning: an empty After= does not reset the list (systemd keeps "
                             "earlier entries), ignoring",
                         });
    CHECK(*u.unit.get<Strings>("Unit", "After") == Strings{"a.service", "b.service"});
    CHECK(*u.unit.get<EnvironmentMap>("Service", "Environment") ==
          EnvironmentMap{{"A", "3"}, {"B", "2"}, {"C", "x y"}});
    const auto& pre = exec_of(u, "ExecStartPre");
    REQUIRE(pre.size() == 2);
    CHECK(pre[1].ignore_failure);
    CHECK(pre[1].path == "/bin/two");
    REQUIRE(exec_of(u, "ExecStart").size() == 1);
    CHECK(exec_of(u, "ExecStart")[0].path == "/bin/second");
    CHECK(*u.unit.get<Strings>("Service", "EnvironmentFile") == Strings{"/etc/y"});
}

TEST_CASE("scalars: the last assignment wins, TimeoutSec= sets both timeouts", "[loader]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "Type=simple\n"
        "Type=exec\n"
        "TimeoutSec=5min 20s\n"
        "TimeoutStopSec=7\n"
        "ExecStart=/bin/true\n");
    CHECK(messages(u).empty());
    CHECK(*u.unit.get<std::string>("Service", "Type") == "exec");
    CHECK(u.unit.get<Duration>("Service", "TimeoutStartSec")->usec == 320ull * 1000000);
    CHECK(u.unit.get<Duration>("Service", "TimeoutStopSec")->usec == 7ull * 1000000);
    CHECK(u.unit.find("Service", "TimeoutSec") == nullptr);
}

TEST_CASE("ExecStart= count follows Type=", "[loader]") {
    SECTION("two commands for a simple service") {
        const LoadedUnit u = load("[Service]\nExecStart=/bin/a\nExecStart=/bin/b\n");
        CHECK(messages(u) == Strings{"test.service:3: error: Type=simple allows exactly one ExecStart= command, "
                                     "found 2 (use Type=oneshot to run several, or ExecStart= to reset the list in "
                                     "a drop-in)"});
    }
    SECTION("two commands joined by ' ; ' on one line") {
        const LoadedUnit u = load("[Service]\nType=exec\nExecStart=/bin/echo semi \\; ; /bin/echo second\n");
        REQUIRE(messages(u).size() == 1);
        CHECK(messages(u)[0].starts_with("test.service:3: error: Type=exec allows exactly one ExecStart="));
    }
    SECTION("several commands for a oneshot service") {
        const LoadedUnit u = load("[Service]\nType=oneshot\nExecStart=/bin/a\nExecStart=/bin/b ; /bin/c\n");
        CHECK(messages(u).empty());
        CHECK(exec_of(u, "ExecStart").size() == 3);
        CHECK(effective_type(u.unit) == "oneshot");
    }
    SECTION("no command at all") {
        const LoadedUnit u = load("[Unit]\nDescription=x\n[Service]\nRestart=no\n");
        CHECK(messages(u) == Strings{"test.service:3: error: service has no ExecStart= and no ExecStop=: add "
                                     "ExecStart=/path/to/program"});
    }
    SECTION("only ExecStop= is fine for oneshot, which is then the default type") {
        const LoadedUnit u = load("[Service]\nRemainAfterExit=yes\nExecStop=/bin/cleanup\n");
        CHECK(messages(u).empty());
        CHECK(effective_type(u.unit) == "oneshot");
    }
    SECTION("ExecStop= without ExecStart= for a simple service") {
        const LoadedUnit u = load("[Service]\nType=simple\nExecStop=/bin/cleanup\n");
        CHECK(messages(u) ==
              Strings{"test.service:2: error: service has no ExecStart=, which only Type=oneshot allows"});
    }
    SECTION("Restart=always with oneshot") {
        const LoadedUnit u = load("[Service]\nType=oneshot\nExecStart=/bin/a\nRestart=always\n");
        CHECK(messages(u) == Strings{"test.service:4: error: Restart=always is not allowed with Type=oneshot (use "
                                     "on-failure, or Type=simple)"});
    }
}

TEST_CASE("Exec lines: quoting, prefixes, unbalanced quotes", "[loader]") {
    const LoadedUnit ok = load(
        "[Service]\n"
        "ExecStart=-@/bin/echo argv0 \"two words\" 'single' a\\x41\n"
        "ExecStartPre=+:/bin/pre $HOME ${X}\n");
    CHECK(messages(ok).empty());
    const auto& start = exec_of(ok, "ExecStart")[0];
    CHECK(start.path == "/bin/echo");
    CHECK(start.argv == Strings{"argv0", "two words", "single", "aA"});
    CHECK(start.prefixes() == "-@");
    const auto& pre = exec_of(ok, "ExecStartPre")[0];
    CHECK(pre.prefixes() == ":+");
    CHECK(pre.argv == Strings{"/bin/pre", "$HOME", "${X}"});

    const LoadedUnit bad = load("[Service]\nExecStart=/bin/sh -c 'echo unbalanced\n");
    REQUIRE(messages(bad).size() == 2);  // the quote error, then "no ExecStart="
    CHECK(messages(bad)[0].starts_with("test.service:2: error: invalid value '/bin/sh -c 'echo unbalanced' for "
                                       "ExecStart=: "));
}

TEST_CASE("specifiers are expanded at load, unknown ones are errors", "[loader]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "Environment=NAME=%n INSTANCE=%i HOST=%l PCT=100%%\n"
        "ExecStart=/usr/bin/worker --id %I --dir %S/%p\n",
        "worker@a\\x2db.service");
    CHECK(messages(u).empty());
    CHECK(*u.unit.get<EnvironmentMap>("Service", "Environment") ==
          EnvironmentMap{{"HOST", "host1"}, {"INSTANCE", "a\\x2db"}, {"NAME", "worker@a\\x2db.service"}, {"PCT", "100%"}});
    CHECK(exec_of(u, "ExecStart")[0].argv == Strings{"/usr/bin/worker", "--id", "a-b", "--dir", "/var/lib/worker"});

    const LoadedUnit bad = load("[Service]\nExecStart=/bin/echo %Z\n");
    REQUIRE_FALSE(messages(bad).empty());
    CHECK(messages(bad)[0].starts_with("test.service:2: error: invalid value '/bin/echo %Z' for ExecStart=: "));
    CHECK(messages(bad)[0].find("%Z") != std::string::npos);
}

TEST_CASE("an empty condition clears every condition", "[loader]") {
    const LoadedUnit u = load(
        "[Unit]\n"
        "ConditionHost=web-*\n"
        "ConditionPathExists=!/etc/disabled\n"
        "ConditionHost=\n"
        "ConditionHost=|db-1\n"
        "ConditionFileNotEmpty=relative/path\n"
        "[Service]\nExecStart=/bin/true\n");
    REQUIRE(messages(u).size() == 1);
    CHECK(messages(u)[0].starts_with("test.service:6: error: invalid value 'relative/path' for ConditionFileNotEmpty="));
    CHECK(u.unit.find("Unit", "ConditionPathExists") == nullptr);
    const auto& host = *u.unit.get<std::vector<Condition>>("Unit", "ConditionHost");
    REQUIRE(host.size() == 1);
    CHECK(host[0] == Condition{true, false, "db-1"});
}

TEST_CASE("drop-ins apply after the main file, in the order given", "[loader]") {
    const LoadedUnit u = load("[Service]\nExecStart=/bin/old\nEnvironment=A=1\n", "web.service",
                              {{"web.service.d/10-cmd.conf", "[Service]\nExecStart=\nExecStart=/bin/new --flag\n"},
                               {"web.service.d/20-env.conf", "[Service]\nEnvironment=A=2 B=3\nRestart=always\n"}});
    CHECK(messages(u).empty());
    REQUIRE(exec_of(u, "ExecStart").size() == 1);
    CHECK(exec_of(u, "ExecStart")[0].argv == Strings{"/bin/new", "--flag"});
    CHECK(*u.unit.get<EnvironmentMap>("Service", "Environment") == EnvironmentMap{{"A", "2"}, {"B", "3"}});
    const Setting* restart = u.unit.find("Service", "Restart");
    CHECK(restart->file == "web.service.d/20-env.conf");
    CHECK(restart->line == 3);
    CHECK(u.unit.dropins == Strings{"web.service.d/10-cmd.conf", "web.service.d/20-env.conf"});
}

TEST_CASE("Type=dbus and StandardOutput=tty are valid for systemd: warnings", "[loader]") {
    const LoadedUnit u = load("[Service]\nType=dbus\nStandardOutput=tty\nExecStart=/bin/true\n");
    CHECK(messages(u) == Strings{
                             "test.service:2: warning: Type=dbus is not supported by gitvisor, ignoring",
                             "test.service:3: warning: StandardOutput=tty is not supported by gitvisor (output goes "
                             "to the unit's log), ignoring",
                         });
    CHECK(u.unit.find("Service", "Type") == nullptr);
}

TEST_CASE("an empty file masks the unit", "[loader]") {
    const LoadedUnit u = load("");
    CHECK(u.masked);
    CHECK(u.diagnostics.empty());
}

TEST_CASE("values of other types are validated", "[loader]") {
    const LoadedUnit u = load(
        "[Unit]\n"
        "Requires=not a unit\n"
        "[Service]\n"
        "ExecStart=/bin/true\n"
        "WorkingDirectory=relative\n"
        "User=bad:name\n"
        "Nice=42\n"
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_BOGUS\n"
        "RuntimeDirectory=../escape\n"
        "StandardOutput=file:relative\n"
        "PIDFile=run/x.pid\n");
    const Strings m = messages(u);
    REQUIRE(m.size() == 8);
    CHECK(m[0].starts_with("test.service:2: error: invalid value 'not a unit' for Requires=: 'not' is not a valid unit name"));
    CHECK(m[1].starts_with("test.service:5: error: invalid value 'relative' for WorkingDirectory="));
    CHECK(m[2].starts_with("test.service:6: error: invalid value 'bad:name' for User="));
    CHECK(m[3].starts_with("test.service:7: error: invalid value '42' for Nice="));
    CHECK(m[4].find("unknown capability 'CAP_BOGUS'") != std::string::npos);
    CHECK(m[5].starts_with("test.service:9: error: invalid value '../escape' for RuntimeDirectory="));
    CHECK(m[6].starts_with("test.service:10: error: invalid value 'file:relative' for StandardOutput="));
    CHECK(m[7].starts_with("test.service:11: error: invalid value 'run/x.pid' for PIDFile="));
}
