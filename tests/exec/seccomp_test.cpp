// SystemCallFilter=, SystemCallErrorNumber=, SystemCallArchitectures=, LockPersonality=,
// MemoryDenyWriteExecute=, RestrictRealtime=, RestrictSUIDSGID=, RestrictNamespaces= and
// RestrictAddressFamilies=: systemd's merging as pure functions, then the real gitvisor-exec, with the
// filter checked from inside the unit's process. Nothing here needs root but the User= case; each probe is
// harmless should the filter let it through (a mount on a missing directory, a read of the clock's state).

#include "exec/seccomp.h"

#include <linux/seccomp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "exec/spec.h"
#include "exec/syscalls.h"
#include "exec_test_support.h"

using exec_test::command;
using exec_test::ExecProcess;
using exec_test::list;
using exec_test::Mode;
using exec_test::quoted_list;
using exec_test::run_oneshot;
using exec_test::shell;
using exec_test::SpecBuilder;
using exec_test::TempDir;
using gitvisor::exec::SeccompPolicy;

namespace {

const std::string kProbe = GITVISOR_BINARY_DIR "/tests/gitvisor-seccomp-probe";

SeccompPolicy policy_of(const std::string& fields) {
    auto spec = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}])" +
        fields + "}");
    INFO(spec.error());
    REQUIRE(spec);
    auto policy = gitvisor::exec::seccomp_policy(*spec);
    INFO(policy.error());
    REQUIRE(policy);
    return *policy;
}

bool has(const SeccompPolicy& policy, const char* name) {
    return policy.syscalls.count(gitvisor::exec::syscall_number(name)) > 0;
}

// python3 -c CODE, as a line of sh.
std::string python(const std::string& code) { return "python3 -c '" + code + "'"; }

// A mount on a directory that does not exist: ENOENT when the kernel gets the call.
const std::string kMountProbe =
    python(
        "import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
        "r = libc.mount(b\"none\", b\"/gitvisor-no-such-dir\", b\"tmpfs\", 0, None); "
        "print(\"mount\", r, ctypes.get_errno())") +
    "; echo status=$?";

}  // namespace

TEST_CASE("seccomp: the system call table and the architecture are this machine's") {
    CHECK(gitvisor::exec::syscall_count() > 250);
    CHECK(gitvisor::exec::syscall_number("read") == SYS_read);
    CHECK(gitvisor::exec::syscall_number("mount") == SYS_mount);
    CHECK(gitvisor::exec::syscall_number("no_such_call") == -1);
    CHECK(gitvisor::exec::native_audit_arch() != 0);
    CHECK(gitvisor::exec::audit_arch_of("native") == gitvisor::exec::native_audit_arch());
}

TEST_CASE("seccomp: SystemCallFilter= assignments merge as in systemd") {
    using Filter = SeccompPolicy::Filter;
    CHECK_FALSE(policy_of("").any());
    // An allow list starts from @default.
    const SeccompPolicy allow = policy_of(R"(,"system_call_filter":["@basic-io"])");
    CHECK(allow.filter == Filter::Allow);
    CHECK(has(allow, "read"));
    CHECK(has(allow, "execve"));
    CHECK_FALSE(has(allow, "mount"));
    CHECK(allow.action == SECCOMP_RET_KILL_PROCESS);
    // A later deny assignment takes from it; a later allow one adds.
    const SeccompPolicy taken = policy_of(R"(,"system_call_filter":["@basic-io","~write","@mount"])");
    CHECK_FALSE(has(taken, "write"));
    CHECK(has(taken, "read"));
    CHECK(has(taken, "mount"));
    // A deny list; per-call error numbers; unknown names are skipped.
    const SeccompPolicy deny = policy_of(
        R"(,"system_call_filter":["~@mount no_such_call","~reboot:EACCES"],"system_call_error_number":1)");
    CHECK(deny.filter == Filter::Deny);
    CHECK(has(deny, "umount2"));
    CHECK_FALSE(has(deny, "read"));
    CHECK(deny.syscalls.at(gitvisor::exec::syscall_number("reboot")) == EACCES);
    CHECK(deny.syscalls.at(gitvisor::exec::syscall_number("mount")) == 0);
    CHECK(deny.action == (SECCOMP_RET_ERRNO | 1));
    // Groups of groups; an empty assignment resets.
    CHECK(has(policy_of(R"(,"system_call_filter":["@system-service"])"), "socket"));
    CHECK(policy_of(R"(,"system_call_filter":["@known"])").syscalls.size() ==
          gitvisor::exec::syscall_count());
    CHECK(has(policy_of(R"(,"system_call_filter":["~@sandbox"])"), "seccomp"));
    CHECK(policy_of(R"(,"system_call_filter":["@mount",""])").filter == Filter::None);
    auto spec = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("system_call_filter":["@nope"]})");
    REQUIRE(spec);
    CHECK(gitvisor::exec::seccomp_policy(*spec).error() == "unknown system call group '@nope'");
}

TEST_CASE("seccomp: address families, namespaces, architectures and implied filters merge as in systemd") {
    using Filter = SeccompPolicy::Filter;
    const SeccompPolicy families =
        policy_of(R"(,"restrict_address_families":["AF_UNIX AF_INET AF_INET6","~AF_INET6"])");
    CHECK(families.families == Filter::Allow);
    CHECK(families.family_list == std::vector<int>{AF_UNIX, AF_INET});
    CHECK(policy_of(R"(,"restrict_address_families":["none"])").family_list.empty());
    CHECK(policy_of(R"(,"restrict_address_families":["none"])").families == Filter::Allow);
    CHECK(policy_of(R"(,"restrict_address_families":["~AF_PACKET"])").families == Filter::Deny);

    const uint64_t all = CLONE_NEWCGROUP | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID |
                         CLONE_NEWUSER | CLONE_NEWUTS;
    CHECK(policy_of(R"(,"restrict_namespaces":[""])").blocked_namespaces == all);
    CHECK(policy_of(R"(,"restrict_namespaces":["~"])").blocked_namespaces == 0);
    CHECK(policy_of(R"(,"restrict_namespaces":["~user net"])").blocked_namespaces ==
          (CLONE_NEWUSER | CLONE_NEWNET));
    CHECK(policy_of(R"(,"restrict_namespaces":["uts","ipc"])").blocked_namespaces ==
          (all & ~uint64_t{CLONE_NEWUTS | CLONE_NEWIPC}));

    const SeccompPolicy native = policy_of(R"(,"system_call_architectures":["native"])");
    CHECK(native.arches_set);
    CHECK(native.native_allowed);
    CHECK(native.foreign_arches.empty());
    CHECK(native.any());

    const SeccompPolicy clock = policy_of(R"(,"protect_clock":true,"protect_hostname":true)");
    const auto refused = [&](const char* name) {
        return std::count(clock.refused.begin(), clock.refused.end(), gitvisor::exec::syscall_number(name)) ==
               1;
    };
    CHECK(refused("clock_settime"));
    CHECK(refused("adjtimex"));
    CHECK(refused("sethostname"));
    CHECK_FALSE(refused("clock_gettime"));
}

TEST_CASE("seccomp: SystemCallFilter=~@mount kills a mount, or returns SystemCallErrorNumber=") {
    SECTION("kill, the default") {
        const std::string log = run_oneshot(kMountProbe, {{"system_call_filter", quoted_list({"~@mount"})}});
        INFO(log);
        CHECK(log.find("status=" + std::to_string(128 + SIGSYS)) != std::string::npos);
        CHECK(log.find("mount -1") == std::string::npos);
    }
    SECTION("EPERM") {
        const std::string log = run_oneshot(kMountProbe, {{"system_call_filter", quoted_list({"~@mount"})},
                                                          {"system_call_error_number", "1"}});
        INFO(log);
        CHECK(log.find("mount -1 1\n") != std::string::npos);
    }
    SECTION("an error number of the call's own") {
        const std::string log =
            run_oneshot(kMountProbe, {{"system_call_filter", quoted_list({"~mount:EACCES"})}});
        INFO(log);
        CHECK(log.find("mount -1 13\n") != std::string::npos);
    }
    SECTION("no filter: the kernel answers") {
        EXEC_TEST_SKIP_UNLESS_ROOT("a mount that reaches the path lookup");
        const std::string log = run_oneshot(kMountProbe, {});
        INFO(log);
        CHECK(log.find("mount -1 2\n") != std::string::npos);
    }
}

TEST_CASE("seccomp: @system-service runs sh and python, and nothing outside it") {
    // Killed at the first call outside the list: python and sh must not make one.
    const std::string log =
        run_oneshot("echo sh=ok; " + python("import json, os, socket, subprocess; print(\"python\", 1)") +
                        "; echo status=$?",
                    {{"system_call_filter", quoted_list({"@system-service"})}});
    INFO(log);
    CHECK(log.find("sh=ok") != std::string::npos);
    CHECK(log.find("python 1\n") != std::string::npos);
    CHECK(log.find("status=0") != std::string::npos);
    const std::string mount = run_oneshot(
        kMountProbe,
        {{"system_call_filter", quoted_list({"@system-service"})}, {"system_call_error_number", "1"}});
    INFO(mount);
    CHECK(mount.find("mount -1 1\n") != std::string::npos);
}

TEST_CASE("seccomp: an allow list kills what it leaves out, and the unit's failure is reported") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .start(command({"/bin/sh", "-c", "echo started"}))
        .set("system_call_filter", quoted_list({"@basic-io"}));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_exit().has_value());
    CHECK(exec.state() == "failed/failed");
    CHECK(exec.field("result") == "signal");
    CHECK(exec.field("exit_signal") == std::to_string(SIGSYS));
}

TEST_CASE("seccomp: MemoryDenyWriteExecute= refuses a writable and executable mapping") {
    const std::string probe = python(
        "import mmap\ntry:\n    mmap.mmap(-1, 4096, prot=mmap.PROT_WRITE | mmap.PROT_EXEC)\n    "
        "print(\"wx=mapped\")\n"
        "except OSError as e:\n    print(\"wx=refused\", e.errno)\n"
        "mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE)\nprint(\"rw=mapped\")");
    const std::string log = run_oneshot(probe, {{"memory_deny_write_execute", "true"}});
    INFO(log);
    CHECK(log.find("wx=refused 1\n") != std::string::npos);
    CHECK(log.find("rw=mapped") != std::string::npos);
    const std::string control = run_oneshot(probe, {});
    INFO(control);
    CHECK(control.find("wx=mapped") != std::string::npos);
}

TEST_CASE("seccomp: RestrictAddressFamilies= refuses other families with EAFNOSUPPORT") {
    const std::string probe = python(
        "import socket\nfor name in (\"AF_UNIX\", \"AF_INET\", \"AF_INET6\"):\n    try:\n"
        "        socket.socket(getattr(socket, name)).close()\n        print(name, \"ok\")\n"
        "    except OSError as e:\n        print(name, \"refused\", e.errno)");
    SECTION("an allow list") {
        const std::string log = run_oneshot(probe, {{"restrict_address_families", quoted_list({"AF_UNIX"})}});
        INFO(log);
        CHECK(log.find("AF_UNIX ok") != std::string::npos);
        CHECK(log.find("AF_INET refused " + std::to_string(EAFNOSUPPORT)) != std::string::npos);
        CHECK(log.find("AF_INET6 refused " + std::to_string(EAFNOSUPPORT)) != std::string::npos);
    }
    SECTION("a deny list") {
        const std::string log =
            run_oneshot(probe, {{"restrict_address_families", quoted_list({"~AF_INET6"})}});
        INFO(log);
        CHECK(log.find("AF_UNIX ok") != std::string::npos);
        CHECK(log.find("AF_INET ok") != std::string::npos);
        CHECK(log.find("AF_INET6 refused") != std::string::npos);
    }
    SECTION("none") {
        const std::string log = run_oneshot(probe, {{"restrict_address_families", quoted_list({"none"})}});
        INFO(log);
        CHECK(log.find("AF_UNIX refused") != std::string::npos);
    }
}

TEST_CASE("seccomp: RestrictNamespaces= refuses the namespaces it does not list") {
    EXEC_TEST_SKIP_UNLESS_ROOT("making namespaces");
    const std::string probe =
        "unshare --uts true && echo uts=made; unshare --net true && echo net=made; "
        "unshare --user true && echo user=made";
    SECTION("yes") {
        // Threads still start: clone3 is refused with ENOSYS, and the C library falls back to clone.
        const std::string threads = python(
            "import threading; t = threading.Thread(target=lambda: print(\"thread=ran\")); t.start(); "
            "t.join()");
        const std::string log =
            run_oneshot(probe + "; " + threads, {{"restrict_namespaces", quoted_list({""})}});
        INFO(log);
        CHECK(log.find("=made") == std::string::npos);
        CHECK(log.find("Operation not permitted") != std::string::npos);
        CHECK(log.find("thread=ran") != std::string::npos);
    }
    SECTION("a list") {
        const std::string log = run_oneshot(probe, {{"restrict_namespaces", quoted_list({"uts"})}});
        INFO(log);
        CHECK(log.find("uts=made") != std::string::npos);
        CHECK(log.find("net=made") == std::string::npos);
        CHECK(log.find("user=made") == std::string::npos);
    }
    SECTION("a deny list") {
        const std::string log = run_oneshot(probe, {{"restrict_namespaces", quoted_list({"~user"})}});
        INFO(log);
        CHECK(log.find("uts=made") != std::string::npos);
        CHECK(log.find("net=made") != std::string::npos);
        CHECK(log.find("user=made") == std::string::npos);
    }
}

TEST_CASE("seccomp: RestrictRealtime= refuses SCHED_FIFO, allows SCHED_BATCH") {
    const std::string probe = python(
        "import os\nfor name in (\"SCHED_BATCH\", \"SCHED_FIFO\", \"SCHED_RR\"):\n    try:\n"
        "        prio = 1 if name != \"SCHED_BATCH\" else 0\n"
        "        os.sched_setscheduler(0, getattr(os, name), os.sched_param(prio))\n        print(name, "
        "\"set\")\n"
        "    except OSError as e:\n        print(name, \"refused\", e.errno)");
    const std::string log = run_oneshot(probe, {{"restrict_realtime", "true"}});
    INFO(log);
    CHECK(log.find("SCHED_BATCH set") != std::string::npos);
    CHECK(log.find("SCHED_FIFO refused 1") != std::string::npos);
    CHECK(log.find("SCHED_RR refused 1") != std::string::npos);
}

TEST_CASE("seccomp: RestrictSUIDSGID= refuses set-user-ID and set-group-ID files") {
    TempDir files;
    const std::string f = files.file("f");
    const std::string probe = "touch " + f + "; chmod 755 " + f + " && echo plain=ok; chmod u+s " + f +
                              " || echo suid=refused; chmod g+s " + f + " || echo sgid=refused; " +
                              python("import os\ntry:\n    os.close(os.open(\"" + files.file("g") +
                                     "\", os.O_CREAT | os.O_WRONLY, 0o4755))\n    print(\"open=made\")\n"
                                     "except OSError as e:\n    print(\"open=refused\", e.errno)");
    const std::string log = run_oneshot(probe, {{"restrict_suid_sgid", "true"}});
    INFO(log);
    CHECK(log.find("plain=ok") != std::string::npos);
    CHECK(log.find("suid=refused") != std::string::npos);
    CHECK(log.find("sgid=refused") != std::string::npos);
    CHECK(log.find("open=refused 1") != std::string::npos);
    struct stat st {};
    REQUIRE(::stat(f.c_str(), &st) == 0);
    CHECK((st.st_mode & (S_ISUID | S_ISGID)) == 0);
    CHECK_FALSE(std::filesystem::exists(files.file("g")));
}

TEST_CASE("seccomp: LockPersonality= keeps the execution domain") {
    const std::string probe = python(
        "import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
        "print(\"query\", libc.personality(0xffffffff) >= 0); "
        "print(\"linux32\", libc.personality(0x0008), ctypes.get_errno())");
    const std::string log = run_oneshot(probe, {{"lock_personality", "true"}});
    INFO(log);
    CHECK(log.find("query True") != std::string::npos);
    CHECK(log.find("linux32 -1 1\n") != std::string::npos);
}

TEST_CASE("seccomp: ProtectClock= and ProtectHostname= refuse their system calls") {
    EXEC_TEST_SKIP_UNLESS_ROOT("ProtectHostname= (a UTS namespace)");
    // adjtimex with no mode only reads the clock's state: harmless should it get through.
    const std::string probe = python(
                                  "import ctypes; libc = ctypes.CDLL(None, use_errno=True); buf = "
                                  "ctypes.create_string_buffer(512); "
                                  "print(\"adjtimex\", libc.adjtimex(buf), ctypes.get_errno())") +
                              "; hostname gitvisor-seccomp-test || echo hostname=refused; "
                              "readlink /proc/self/ns/uts | sed s/^/uts=/";
    const std::string log = run_oneshot(probe, {{"protect_clock", "true"}, {"protect_hostname", "true"}});
    INFO(log);
    CHECK(log.find("adjtimex -1 1\n") != std::string::npos);
    CHECK(log.find("hostname=refused") != std::string::npos);
    char link[128] = {};
    REQUIRE(::readlink("/proc/self/ns/uts", link, sizeof link - 1) > 0);
    CHECK(log.find(std::string("uts=") + link) == std::string::npos);
}

TEST_CASE("seccomp: another ABI's system call cannot go around the filter") {
    const std::string control =
        run_oneshot(kProbe + " i386-getpid; " + kProbe + " x32-getpid; echo status=$?", {});
    if (control.find("unsupported") != std::string::npos) {
        WARN("skipped: the probe knows other ABIs on x86-64 only");
        return;
    }
    INFO(control);
    const std::vector<std::pair<std::string, std::string>> filtered = {
        {"system_call_architectures", quoted_list({"native"})}};
    // Each probe alone: a killed one must not hide the other.
    const std::string i386 = run_oneshot(kProbe + " i386-getpid; echo status=$?", filtered);
    INFO(i386);
    CHECK(i386.find("status=" + std::to_string(128 + SIGSYS)) != std::string::npos);
    CHECK(i386.find("i386=") == std::string::npos);
    const std::string x32 = run_oneshot(kProbe + " x32-getpid; echo status=$?",
                                        {{"system_call_filter", quoted_list({"~@mount"})}});
    INFO(x32);
    CHECK(x32.find("status=" + std::to_string(128 + SIGSYS)) != std::string::npos);
    CHECK(x32.find("x32=") == std::string::npos);
}

TEST_CASE("seccomp: '+' commands run without the filter, User= commands with it") {
    EXEC_TEST_SKIP_UNLESS_ROOT("User=");
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("exec_start_pre", list({shell(kMountProbe, "\"full_privileges\":true")}))
        .set("exec_start", list({shell("grep NoNewPrivs /proc/self/status; " + kMountProbe)}))
        .set("user", "\"nobody\"")
        .set("system_call_filter", quoted_list({"~mount:EACCES"}));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_exit().has_value());
    const std::string log = exec.log();
    INFO(log);
    CHECK(log.find("mount -1 2\n") != std::string::npos);   // '+': the kernel answers
    CHECK(log.find("mount -1 13\n") != std::string::npos);  // nobody: the filter answers
    // Without CAP_SYS_ADMIN, the filter needs no_new_privs, which it sets.
    CHECK(log.find("NoNewPrivs:\t1") != std::string::npos);
}

TEST_CASE("seccomp: a filter that cannot be made fails the unit at step SECCOMP") {
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"})).set("system_call_filter", quoted_list({"@no-such-group"}));
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 1);
    CHECK(exec.state() == "failed/failed");
    CHECK(exec.field("failed_step") == "SECCOMP");
}
