// The settings gitvisor-exec carries out for the unit's sandbox and restarts (tests/exec/ runs them):
// what the loader keeps of them.

#include <catch2/catch.hpp>

#include "test_support.h"
#include "unitfile/setting_parser.h"
#include "unitfile/unit_loader.h"

using namespace gitvisor::unitfile;
using namespace gitvisor::unitfile::testing;
using Strings = std::vector<std::string>;

TEST_CASE("sandbox settings load with their values and defaults", "[loader]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "ExecStart=/bin/true\n"
        "RestartSteps=5\n"
        "RestartMaxDelaySec=1min\n"
        "ProtectSystem=strict\n"
        "ProtectHome=read-only\n"
        "ReadWritePaths=/var/lib/app -/srv/maybe\n"
        "InaccessiblePaths=/etc/shadow\n"
        "RuntimeDirectory=app app/sub\n"
        "RuntimeDirectoryMode=0750\n"
        "RuntimeDirectoryPreserve=restart\n"
        "CapabilityBoundingSet=~CAP_SYS_ADMIN\n"
        "AmbientCapabilities=CAP_NET_BIND_SERVICE\n"
        "StandardOutput=append:/var/log/app.log\n"
        "StandardError=null\n");
    CHECK(messages(u).empty());
    CHECK(*u.unit.get<int64_t>("Service", "RestartSteps") == 5);
    CHECK(u.unit.get<Duration>("Service", "RestartMaxDelaySec")->usec == 60ull * 1000000);
    CHECK(*u.unit.get<std::string>("Service", "ProtectSystem") == "strict");
    CHECK(*u.unit.get<std::string>("Service", "ProtectHome") == "read-only");
    CHECK(*u.unit.get<Strings>("Service", "ReadWritePaths") == Strings{"/var/lib/app", "-/srv/maybe"});
    CHECK(*u.unit.get<Strings>("Service", "RuntimeDirectory") == Strings{"app", "app/sub"});
    CHECK(u.unit.get<Mode>("Service", "RuntimeDirectoryMode")->bits == 0750);
    CHECK(*u.unit.get<std::string>("Service", "RuntimeDirectoryPreserve") == "restart");
    CHECK(*u.unit.get<Strings>("Service", "CapabilityBoundingSet") == Strings{"~CAP_SYS_ADMIN"});
    CHECK(*u.unit.get<std::string>("Service", "StandardOutput") == "append:/var/log/app.log");
    CHECK(*u.unit.get<std::string>("Service", "StandardError") == "null");

    const LoadedUnit plain = load("[Service]\nExecStart=/bin/true\n");
    CHECK(value_or_default(plain.unit, "Service", "RuntimeDirectoryPreserve", std::string("?")) == "no");
    CHECK(value_or_default(plain.unit, "Service", "RestartMaxDelaySec", Duration{0}).usec == kInfinity);
    CHECK(value_or_default(plain.unit, "Service", "StateDirectoryMode", Mode{0}).bits == 0755);
}

TEST_CASE("RuntimeDirectoryPreserve= is a boolean or restart", "[loader]") {
    const LoadedUnit yes = load("[Service]\nExecStart=/bin/true\nRuntimeDirectoryPreserve=on\n");
    CHECK(messages(yes).empty());
    CHECK(*yes.unit.get<std::string>("Service", "RuntimeDirectoryPreserve") == "yes");
    const LoadedUnit bad = load("[Service]\nExecStart=/bin/true\nRuntimeDirectoryPreserve=always\n");
    REQUIRE(messages(bad).size() == 1);
    CHECK(messages(bad)[0].starts_with(
        "test.service:3: error: invalid value 'always' for RuntimeDirectoryPreserve="));
}

TEST_CASE("an empty CapabilityBoundingSet= is the empty set, and the old *Directories= names are aliases",
          "[loader]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "ExecStart=/bin/true\n"
        "CapabilityBoundingSet=\n"
        "ReadWriteDirectories=/etc/app\n"
        "ReadWritePaths=/var/app\n"
        "ReadOnlyDirectories=/srv\n"
        "InaccessibleDirectories=/secret\n");
    CHECK(messages(u).empty());
    CHECK(*u.unit.get<std::vector<std::string>>("Service", "CapabilityBoundingSet") == std::vector<std::string>{""});
    CHECK(*u.unit.get<std::vector<std::string>>("Service", "ReadWritePaths") ==
          std::vector<std::string>{"/etc/app", "/var/app"});
    CHECK(*u.unit.get<std::vector<std::string>>("Service", "ReadOnlyPaths") == std::vector<std::string>{"/srv"});
    CHECK(*u.unit.get<std::vector<std::string>>("Service", "InaccessiblePaths") == std::vector<std::string>{"/secret"});
}

TEST_CASE("the kernel-facing sandbox settings are booleans, ProtectProc= and ProcSubset= enumerations",
          "[loader]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "ExecStart=/bin/true\n"
        "PrivateDevices=yes\n"
        "ProtectKernelTunables=true\n"
        "ProtectKernelModules=on\n"
        "ProtectKernelLogs=1\n"
        "ProtectControlGroups=yes\n"
        "ProtectHostname=yes\n"
        "ProtectClock=no\n"
        "ProtectProc=invisible\n"
        "ProcSubset=pid\n");
    CHECK(messages(u).empty());
    for (const char* key : {"PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                            "ProtectControlGroups", "ProtectHostname"})
        CHECK(*u.unit.get<bool>("Service", key));
    CHECK_FALSE(*u.unit.get<bool>("Service", "ProtectClock"));
    CHECK(*u.unit.get<std::string>("Service", "ProtectProc") == "invisible");
    CHECK(*u.unit.get<std::string>("Service", "ProcSubset") == "pid");

    const LoadedUnit plain = load("[Service]\nExecStart=/bin/true\n");
    CHECK_FALSE(value_or_default(plain.unit, "Service", "PrivateDevices", true));
    CHECK(value_or_default(plain.unit, "Service", "ProtectProc", std::string("?")) == "default");
    CHECK(value_or_default(plain.unit, "Service", "ProcSubset", std::string("?")) == "all");

    const LoadedUnit bad = load(
        "[Service]\n"
        "ExecStart=/bin/true\n"
        "PrivateDevices=maybe\n"
        "ProtectProc=hidden\n"
        "ProcSubset=Pid\n");
    CHECK(messages(bad) ==
          Strings{"test.service:3: error: invalid value 'maybe' for PrivateDevices=: expected a boolean "
                  "(yes/no, true/false, on/off, 1/0)",
                  "test.service:4: error: invalid value 'hidden' for ProtectProc=: expected one of noaccess, "
                  "invisible, ptraceable, default (values are case-sensitive)",
                  "test.service:5: error: invalid value 'Pid' for ProcSubset=: expected one of all, pid (values are "
                  "case-sensitive)"});
}
