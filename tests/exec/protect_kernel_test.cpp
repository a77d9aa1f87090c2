// PrivateDevices=, ProtectKernelTunables=, ProtectKernelModules=, ProtectKernelLogs=,
// ProtectControlGroups=, ProtectHostname=, ProtectClock=, ProtectProc= and ProcSubset=: the real
// gitvisor-exec (root only: it mounts in a mount namespace of its own, never in the test's), checked
// from inside the unit's process. Whatever a failed protection would leave on the host (a host name, a
// cgroup, a file) is put back by a guard.

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "exec/capabilities.h"
#include "exec/protect.h"
#include "exec/spec.h"
#include "exec_test_support.h"

using exec_test::ExecProcess;
using exec_test::list;
using exec_test::Mode;
using exec_test::run_oneshot;
using exec_test::shell;
using exec_test::SpecBuilder;
using exec_test::TempDir;

namespace {

Mode generate_mode() {
    const Mode mode = GENERATE(Mode::Plain, Mode::Namespace);
    return mode;
}

// The first block device in the host's /dev ("" when there is none).
std::string host_block_device() {
    DIR* dev = ::opendir("/dev");
    std::string found;
    while (dirent* entry = dev != nullptr ? ::readdir(dev) : nullptr) {
        struct stat st {};
        const std::string path = std::string("/dev/") + entry->d_name;
        if (::lstat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
            found = path;
            break;
        }
    }
    if (dev != nullptr) ::closedir(dev);
    return found;
}

// "CapBnd:\t..." of a bounding set, as /proc/self/status shows it.
std::string cap_line(const char* field, uint64_t set) {
    char text[32];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(set));
    return std::string(field) + ":\t" + text;
}

uint64_t host_bounding_set() {
    for (const std::string& line : exec_test::lines_of(exec_test::read_file("/proc/self/status"))) {
        if (line.rfind("CapBnd:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
    }
    return 0;
}

uint64_t bit(const char* name) { return uint64_t{1} << gitvisor::exec::capability_from_name(name); }

// Restores the host name should a unit change it.
class HostnameGuard {
public:
    HostnameGuard() { ::gethostname(m_name, sizeof m_name - 1); }
    ~HostnameGuard() {
        if (current() != m_name) ::sethostname(m_name, std::strlen(m_name));
    }
    HostnameGuard(const HostnameGuard&) = delete;
    HostnameGuard& operator=(const HostnameGuard&) = delete;
    static std::string current() {
        char name[256] = {};
        ::gethostname(name, sizeof name - 1);
        return name;
    }
    std::string saved() const { return m_name; }

private:
    char m_name[256] = {};
};

}  // namespace

TEST_CASE("protect kernel: the spec reads the settings and names a wrong one") {
    const std::string base =
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}])";
    auto spec = gitvisor::exec::parse_spec(
        base + R"(,"private_devices":true,"protect_kernel_tunables":true,"protect_kernel_modules":true,)"
               R"("protect_kernel_logs":true,"protect_control_groups":true,"protect_hostname":true,)"
               R"("protect_clock":true,"protect_proc":"invisible","proc_subset":"pid"})");
    REQUIRE(spec);
    CHECK(spec->private_devices);
    CHECK(spec->protect_hostname);
    CHECK(spec->protect_proc == gitvisor::exec::ProtectProc::Invisible);
    CHECK(spec->proc_subset == gitvisor::exec::ProcSubset::Pid);
    CHECK(gitvisor::exec::wants_protection(*spec));
    CHECK(gitvisor::exec::effective_bounding_set(*spec) ==
          ~(bit("CAP_MKNOD") | bit("CAP_SYS_RAWIO") | bit("CAP_SYS_MODULE") | bit("CAP_SYSLOG") |
            bit("CAP_SYS_TIME") | bit("CAP_WAKE_ALARM")));
    CHECK(gitvisor::exec::parse_spec(base + R"(,"protect_proc":"hidden"})").error() ==
          "field 'protect_proc': unknown value 'hidden'");
    CHECK(gitvisor::exec::parse_spec(base + R"(,"proc_subset":"none"})").error() ==
          "field 'proc_subset': unknown value 'none'");
    CHECK(gitvisor::exec::parse_spec(base + R"(,"private_devices":"yes"})").error() ==
          "field 'private_devices': expected a boolean, got a string");
    auto plain = gitvisor::exec::parse_spec(base + "}");
    REQUIRE(plain);
    CHECK_FALSE(gitvisor::exec::wants_protection(*plain));
    CHECK(gitvisor::exec::effective_bounding_set(*plain) == gitvisor::exec::kAllCapabilities);
}

TEST_CASE("protect kernel: PrivateDevices= leaves the pseudo devices and no block device") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    const std::string block = host_block_device();
    if (block.empty()) WARN("the host has no block device in /dev: only the pseudo devices are checked");
    const std::string script =
        (block.empty() ? std::string()
                       : "test -e " + block + " && echo block=present || echo block=absent; ") +
        "echo x > /dev/null && echo null=works; head -c 8 /dev/urandom | wc -c | sed 's/^/urandom=/'; "
        "test -c /dev/zero && echo zero=present; test -e /dev/kmsg || echo kmsg=absent; "
        "test -d /dev/shm && echo shm=present; stat -c 'mode %n %a' /dev/null /dev/urandom /dev/shm; "
        "grep -E '^CapBnd:' /proc/self/status";
    const std::string log = run_oneshot(script, {{"private_devices", "true"}}, mode);
    INFO(log);
    if (!block.empty()) CHECK(log.find("block=absent") != std::string::npos);
    CHECK(log.find("null=works") != std::string::npos);
    CHECK(log.find("urandom=8") != std::string::npos);
    CHECK(log.find("zero=present") != std::string::npos);
    CHECK(log.find("kmsg=absent") != std::string::npos);
    CHECK(log.find("shm=present") != std::string::npos);
    // Whatever gitvisor-exec's umask: anyone may use them.
    CHECK(log.find("mode /dev/null 666") != std::string::npos);
    CHECK(log.find("mode /dev/urandom 666") != std::string::npos);
    CHECK(log.find("mode /dev/shm 1777") != std::string::npos);
    CHECK(log.find(cap_line("CapBnd", host_bounding_set() & ~(bit("CAP_MKNOD") | bit("CAP_SYS_RAWIO")))) !=
          std::string::npos);
    // The host's /dev is untouched.
    if (!block.empty()) CHECK(std::filesystem::exists(block));
}

TEST_CASE("protect kernel: ProtectKernelTunables= makes /proc/sys and /sys read-only") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    // The same value written back: a protection that failed changes nothing on the host.
    const std::string script =
        "v=$(cat /proc/sys/vm/swappiness); echo $v > /proc/sys/vm/swappiness && echo sysctl=written; "
        "h=$(cat /proc/sys/kernel/hostname); echo $h > /proc/sys/kernel/hostname && echo kernel=written; "
        "v=$(cat /sys/kernel/rcu_normal); echo $v > /sys/kernel/rcu_normal || echo sys=refused; "
        "cat /proc/sys/kernel/ostype | sed 's/^/ostype=/'";
    const std::string log = run_oneshot(script, {{"protect_kernel_tunables", "true"}}, mode);
    INFO(log);
    CHECK(log.find("/proc/sys/vm/swappiness: Read-only file system") != std::string::npos);
    CHECK(log.find("/proc/sys/kernel/hostname: Read-only file system") != std::string::npos);
    CHECK(log.find("kernel=written") == std::string::npos);
    CHECK(log.find("sysctl=written") == std::string::npos);
    if (::access("/sys/kernel/rcu_normal", W_OK) == 0) CHECK(log.find("sys=refused") != std::string::npos);
    CHECK(log.find("ostype=Linux") != std::string::npos);
}

TEST_CASE("protect kernel: ProtectControlGroups= makes /sys/fs/cgroup read-only") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    const std::string group = "/sys/fs/cgroup/pids/gitvisor-protect-test-" + std::to_string(::getpid());
    struct Remove {
        std::string path;
        ~Remove() { ::rmdir(path.c_str()); }
    } remove{group};
    const std::string log = run_oneshot("mkdir " + group +
                                            " && echo cgroup=made; test -r /sys/fs/cgroup/pids/cgroup.procs"
                                            " && echo procs=readable",
                                        {{"protect_control_groups", "true"}}, mode);
    INFO(log);
    CHECK(log.find("Read-only file system") != std::string::npos);
    CHECK(log.find("cgroup=made") == std::string::npos);
    CHECK(log.find("procs=readable") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(group));
}

TEST_CASE("protect kernel: ProtectKernelModules= hides the modules and drops CAP_SYS_MODULE") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    // A module folder of the test's own where the host has none, removed afterwards.
    const std::string modules = "/usr/lib/modules";
    const bool made = ::mkdir(modules.c_str(), 0755) == 0;
    const std::string marker = modules + "/.gitvisor-protect-test-" + std::to_string(::getpid());
    exec_test::write_file(marker, "module\n");
    struct Remove {
        std::string marker, dir;
        bool made;
        ~Remove() {
            ::unlink(marker.c_str());
            if (made) ::rmdir(dir.c_str());
        }
    } remove{marker, modules, made};
    const std::string log =
        run_oneshot("ls -A " + modules + " | wc -l | sed 's/^/entries=/'; stat -c mode=%a " + modules +
                        "; grep -E '^CapBnd:' /proc/self/status",
                    {{"protect_kernel_modules", "true"}}, mode);
    INFO(log);
    CHECK(log.find("entries=0") != std::string::npos);
    CHECK(log.find("mode=0\n") != std::string::npos);
    CHECK(log.find(cap_line("CapBnd", host_bounding_set() & ~bit("CAP_SYS_MODULE"))) != std::string::npos);
}

TEST_CASE("protect kernel: ProtectKernelLogs= closes /dev/kmsg and /proc/kmsg, drops CAP_SYSLOG") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    const std::string log = run_oneshot(
        "head -c 1 /dev/kmsg > /dev/null && echo devkmsg=read; stat -c procmode=%a /proc/kmsg; "
        "grep -E '^CapBnd:' /proc/self/status",
        {{"protect_kernel_logs", "true"}}, mode);
    INFO(log);
    CHECK(log.find("devkmsg=read") == std::string::npos);
    CHECK(log.find("cannot open '/dev/kmsg'") != std::string::npos);
    CHECK(log.find("procmode=0\n") != std::string::npos);  // the empty node of mode 0000
    CHECK(log.find(cap_line("CapBnd", host_bounding_set() & ~bit("CAP_SYSLOG"))) != std::string::npos);
}

TEST_CASE("protect kernel: ProtectHostname= gives the unit a UTS namespace, the host keeps its name") {
    EXEC_TEST_SKIP_UNLESS_ROOT("namespaces");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    const HostnameGuard guard;
    // Changing the name is refused too (seccomp_test.cpp); the namespace is the second wall.
    const std::string log =
        run_oneshot("hostname gitvisor-uts-test; readlink /proc/self/ns/uts | sed 's/^/uts=/'",
                    {{"protect_hostname", "true"}}, mode);
    INFO(log);
    char link[128] = {};
    REQUIRE(::readlink("/proc/self/ns/uts", link, sizeof link - 1) > 0);
    CHECK(log.find("uts=uts:[") != std::string::npos);
    CHECK(log.find(std::string("uts=") + link) == std::string::npos);
    CHECK(HostnameGuard::current() == guard.saved());
}

TEST_CASE("protect kernel: ProtectClock= drops CAP_SYS_TIME and CAP_WAKE_ALARM") {
    EXEC_TEST_SKIP_UNLESS_ROOT("capabilities");
    const std::string log = run_oneshot("grep -E '^Cap(Bnd|Eff):' /proc/self/status",
                                        {{"protect_clock", "true"}}, Mode::Namespace);
    INFO(log);
    const uint64_t left = host_bounding_set() & ~(bit("CAP_SYS_TIME") | bit("CAP_WAKE_ALARM"));
    CHECK(log.find(cap_line("CapBnd", left)) != std::string::npos);
    CHECK(log.find(cap_line("CapEff", left)) != std::string::npos);
}

TEST_CASE("protect kernel: ProtectProc=invisible hides other users' processes, ProcSubset=pid the rest") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts and User=");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    const std::string probe =
        "test -e /proc/1 && echo pid1=visible || echo pid1=hidden; test -e /proc/self/status && echo "
        "self=ok; "
        "test -e /proc/sys && echo sys=present || echo sys=absent";
    SECTION("ProtectProc=invisible") {
        const std::string log =
            run_oneshot(probe, {{"user", "\"nobody\""}, {"protect_proc", "\"invisible\""}}, mode);
        INFO(log);
        CHECK(log.find("pid1=hidden") != std::string::npos);
        CHECK(log.find("self=ok") != std::string::npos);
        CHECK(log.find("sys=present") != std::string::npos);
    }
    SECTION("ProcSubset=pid") {
        const std::string log =
            run_oneshot(probe, {{"user", "\"nobody\""}, {"proc_subset", "\"pid\""}}, mode);
        INFO(log);
        CHECK(log.find("pid1=visible") != std::string::npos);
        CHECK(log.find("sys=absent") != std::string::npos);
    }
    SECTION("neither") {
        const std::string log = run_oneshot(probe, {{"user", "\"nobody\""}}, mode);
        INFO(log);
        CHECK(log.find("pid1=visible") != std::string::npos);
        CHECK(log.find("sys=present") != std::string::npos);
    }
}

TEST_CASE("protect kernel: the settings plan systemd's paths") {
    using gitvisor::exec::MountEntry;
    using gitvisor::exec::MountMode;
    auto spec = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("protect_kernel_modules":true,"protect_kernel_logs":true,"protect_control_groups":true})");
    REQUIRE(spec);
    auto planned = gitvisor::exec::plan_mounts(gitvisor::exec::protection_entries(*spec, {}),
                                               [](const std::string& path) { return path; });
    REQUIRE(planned);
    CHECK(*planned == std::vector<MountEntry>{{"/dev/kmsg", MountMode::Inaccessible, true},
                                              {"/lib/modules", MountMode::Inaccessible, true},
                                              {"/proc/kmsg", MountMode::Inaccessible, true},
                                              {"/sys/fs/cgroup", MountMode::ReadOnly, true},
                                              {"/usr/lib/modules", MountMode::Inaccessible, true}});
    // ProtectKernelTunables= under ProtectSystem=strict: /sys is no longer an exception to the read-only
    // "/", /proc stays one but for its kernel variables.
    auto strict = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("protect_system":"strict","protect_kernel_tunables":true})");
    REQUIRE(strict);
    auto entries = gitvisor::exec::plan_mounts(gitvisor::exec::protection_entries(*strict, {}),
                                               [](const std::string& path) { return path; });
    REQUIRE(entries);
    const auto mode_of = [&](const std::string& path) {
        for (const MountEntry& e : *entries)
            if (e.path == path) return static_cast<int>(e.mode);
        return -1;
    };
    CHECK(mode_of("/sys") == -1);
    CHECK(mode_of("/proc") == static_cast<int>(MountMode::ReadWriteImplicit));
    CHECK(mode_of("/proc/sys") == static_cast<int>(MountMode::ReadOnly));
    CHECK(mode_of("/proc/kcore") == static_cast<int>(MountMode::Inaccessible));
}

TEST_CASE("protect kernel: all of them together under ProtectSystem=strict, and '+' commands without them") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts and User=");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    const std::string etc_file = "/etc/.gitvisor-protect-test-" + std::to_string(::getpid());
    struct Remove {
        std::string path;
        ~Remove() { ::unlink(path.c_str()); }
    } remove{etc_file};
    const std::string probe =
        "test -e /dev/kmsg && echo kmsg=present || echo kmsg=absent; echo x > /dev/null && echo null=works; "
        "test -e /proc/sys && echo sys=present || echo sys=absent; "
        "test -e /proc/1 && echo pid1=visible || echo pid1=hidden; "
        "touch " +
        etc_file + " 2>/dev/null || echo etc=refused";
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("exec_start_pre", list({shell("echo plus: ; " + probe, "\"full_privileges\":true")}))
        .set("exec_start", list({shell("echo main: ; " + probe)}))
        .set("user", "\"nobody\"")
        .set("protect_system", "\"strict\"")
        .set("private_devices", "true")
        .set("protect_kernel_tunables", "true")
        .set("protect_kernel_logs", "true")
        .set("protect_control_groups", "true")
        .set("protect_proc", "\"invisible\"")
        .set("proc_subset", "\"pid\"");
    ExecProcess exec(dir, spec, mode);
    REQUIRE(exec.wait_exit() == 0);
    const std::string log = exec.log();
    INFO(log);
    const size_t main = log.find("main:");
    REQUIRE(main != std::string::npos);
    const std::string plus = log.substr(0, main);
    const std::string unit = log.substr(main);
    CHECK(unit.find("kmsg=absent") != std::string::npos);
    CHECK(unit.find("null=works") != std::string::npos);
    CHECK(unit.find("sys=absent") != std::string::npos);
    CHECK(unit.find("pid1=hidden") != std::string::npos);
    CHECK(unit.find("etc=refused") != std::string::npos);
    // The '+' command runs as root in the tree without the protections.
    CHECK(plus.find("kmsg=present") != std::string::npos);
    CHECK(plus.find("sys=present") != std::string::npos);
    CHECK(plus.find("pid1=visible") != std::string::npos);
}
