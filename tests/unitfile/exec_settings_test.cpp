// The settings gitvisor-exec carries out for the unit's sandbox and restarts (tests/exec/ runs them):
// what the loader keeps of them.

#include <catch2/catch.hpp>

#include "test_support.h"
#include "unitfile/sandbox_names.h"
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
    for (const char* key : {"PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules",
                            "ProtectKernelLogs", "ProtectControlGroups", "ProtectHostname"})
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
                  "test.service:5: error: invalid value 'Pid' for ProcSubset=: expected one of all, pid "
                  "(values are "
                  "case-sensitive)"});
}

TEST_CASE("the seccomp settings keep each assignment, checked, for gitvisor-exec to merge", "[loader]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "ExecStart=/bin/true\n"
        "SystemCallFilter=@system-service\n"
        "SystemCallFilter=~@privileged   @resources\n"
        "SystemCallFilter=~mount:EPERM no_such_call\n"
        "SystemCallErrorNumber=EPERM\n"
        "SystemCallArchitectures=native\n"
        "LockPersonality=yes\n"
        "MemoryDenyWriteExecute=yes\n"
        "RestrictRealtime=yes\n"
        "RestrictSUIDSGID=yes\n"
        "RestrictNamespaces=yes\n"
        "RestrictNamespaces=~user net\n"
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n");
    CHECK(messages(u).empty());
    CHECK(*u.unit.get<Strings>("Service", "SystemCallFilter") ==
          Strings{"@system-service", "~@privileged @resources", "~mount:EPERM no_such_call"});
    CHECK(*u.unit.get<std::string>("Service", "SystemCallErrorNumber") == "EPERM");
    CHECK(*u.unit.get<Strings>("Service", "SystemCallArchitectures") == Strings{"native"});
    CHECK(*u.unit.get<bool>("Service", "MemoryDenyWriteExecute"));
    CHECK(*u.unit.get<Strings>("Service", "RestrictNamespaces") == Strings{"", "~user net"});
    CHECK(*u.unit.get<Strings>("Service", "RestrictAddressFamilies") == Strings{"AF_UNIX AF_INET AF_INET6"});

    const LoadedUnit reset = load(
        "[Service]\nExecStart=/bin/true\nSystemCallFilter=@mount\nSystemCallFilter=\nRestrictNamespaces=no\n"
        "RestrictAddressFamilies=none\nSystemCallErrorNumber=\n");
    CHECK(messages(reset).empty());
    CHECK(reset.unit.get<Strings>("Service", "SystemCallFilter") == nullptr);
    CHECK(*reset.unit.get<Strings>("Service", "RestrictNamespaces") == Strings{"~"});
    CHECK(*reset.unit.get<Strings>("Service", "RestrictAddressFamilies") == Strings{"none"});
    CHECK(value_or_default(reset.unit, "Service", "SystemCallErrorNumber", std::string("?")) == "kill");
}

TEST_CASE("a wrong seccomp value is an error naming file, line and cause", "[loader]") {
    const LoadedUnit bad = load(
        "[Service]\n"
        "ExecStart=/bin/true\n"
        "SystemCallFilter=@no-such-group\n"
        "SystemCallFilter=read:EPERM\n"
        "SystemCallFilter=~write:EWHAT\n"
        "SystemCallFilter=Open\n"
        "SystemCallErrorNumber=EBOGUS\n"
        "SystemCallArchitectures=vax\n"
        "RestrictNamespaces=~time\n"
        "RestrictAddressFamilies=AF_NOPE\n");
    CHECK(
        messages(bad) ==
        Strings{
            "test.service:3: error: invalid value '@no-such-group' for SystemCallFilter=: unknown system "
            "call "
            "group '@no-such-group'",
            "test.service:4: error: invalid value 'read:EPERM' for SystemCallFilter=: an error number "
            "('read:EPERM') only goes with a list that starts with '~'",
            "test.service:5: error: invalid value '~write:EWHAT' for SystemCallFilter=: unknown error number "
            "'EWHAT' (e.g. EPERM, or 1-4095)",
            "test.service:6: error: invalid value 'Open' for SystemCallFilter=: 'Open' is not a system call "
            "name",
            "test.service:7: error: invalid value 'EBOGUS' for SystemCallErrorNumber=: expected an error "
            "name "
            "(EPERM, EACCES...), a number 1-4095 or kill",
            "test.service:8: error: invalid value 'vax' for SystemCallArchitectures=: unknown architecture "
            "'vax' (native, x86-64, arm64, ...)",
            "test.service:9: error: invalid value '~time' for RestrictNamespaces=: unknown namespace type "
            "'time' (cgroup, ipc, net, mnt, pid, user, uts)",
            "test.service:10: error: invalid value 'AF_NOPE' for RestrictAddressFamilies=: unknown address "
            "family 'AF_NOPE' (e.g. AF_UNIX, AF_INET)"});
}

TEST_CASE("the seccomp names: groups, errno names, families, namespaces", "[values]") {
    for (const SyscallGroup& group : syscall_groups()) {
        INFO(group.name);
        CHECK(group.name.starts_with("@"));
        // Every member is a system call name or a known group.
        auto words = split_words(group.members);
        REQUIRE(words);
        for (const Word& w : *words)
            CHECK(
                (w.text.starts_with("@") ? find_syscall_group(w.text) != nullptr : is_syscall_name(w.text)));
    }
    CHECK(find_syscall_group("@system-service") != nullptr);
    CHECK(find_syscall_group("@nope") == nullptr);
    CHECK(errno_from_name("EPERM") == 1);
    CHECK(errno_from_name("EUCLEAN") > 0);
    CHECK(errno_from_name("13") == 13);
    CHECK(errno_from_name("4096") == -1);
    CHECK(errno_from_name("EFOO") == -1);
    CHECK(address_family_from_name("AF_UNIX") == 1);
    CHECK(address_family_from_name("AF_LOCAL") == 1);
    CHECK(address_family_from_name("AF_INET6") == 10);
    CHECK(namespace_flag_from_name("user") != 0);
    CHECK(namespace_flag_from_name("time") == 0);
    CHECK(is_architecture_name(native_architecture_name()));
}
