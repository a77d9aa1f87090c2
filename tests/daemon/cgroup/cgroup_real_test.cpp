// The real cgroups of this machine (needs root; skipped with a printed reason otherwise). Each test uses
// a parent of its own, "gitvisor-test-<pid>-<n>", and a guard that kills and removes everything it made,
// whether the test passes or not.

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <thread>

#include "daemon/cgroup/cgroup.h"
#include "daemon/cgroup/cgroup_internal.h"
#include "fake_tree.h"

using namespace gitvisor::daemon;
using namespace gitvisor::daemon::testing;
using gitvisor::daemon::cgroup_detail::join_path;
using gitvisor::daemon::cgroup_detail::parse_proc_cgroup;
using gitvisor::daemon::cgroup_detail::ProcCgroupEntry;

namespace {

// Removes the parent directories detect() made, given any unit's UnitCgroup from locate().
class ParentsGuard {
public:
    explicit ParentsGuard(UnitCgroup unit) : m_unit(std::move(unit)) {}
    ~ParentsGuard() {
        for (const auto& dir : m_unit.dirs()) ::rmdir(std::filesystem::path(dir).parent_path().c_str());
    }
    ParentsGuard(const ParentsGuard&) = delete;
    ParentsGuard& operator=(const ParentsGuard&) = delete;

private:
    UnitCgroup m_unit;
};

// Orphans of the test's children come back to this process rather than to PID 1 (which here may leave
// them zombies for a while); the destructor reaps them, once they have been killed.
class Subreaper {
public:
    Subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
    ~Subreaper() {
        while (::waitpid(-1, nullptr, 0) > 0) {  // until ECHILD
        }
        ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    }
    Subreaper(const Subreaper&) = delete;
    Subreaper& operator=(const Subreaper&) = delete;
};

// One unit cgroup on the real tree. The destructor kills what is left in it, reaps the test's children,
// and removes the unit and parent directories.
class RealCgroup {
public:
    explicit RealCgroup(const std::string& unit) : m_unit(unit) {
        static int counter = 0;
        m_parent_name = "gitvisor-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
        m_manager = CgroupManager::detect("/sys/fs/cgroup", "/proc/self/cgroup", m_parent_name);
        m_cgroup = m_manager.locate(unit);  // known before create(), so a failed create is cleaned up too
    }
    ~RealCgroup() {
        for (pid_t pid : m_children) ::kill(pid, SIGKILL);
        m_cgroup.kill_all();
        for (pid_t pid : m_children) ::waitpid(pid, nullptr, 0);
        (void)m_cgroup.remove();
        ParentsGuard parents(m_cgroup);
    }
    RealCgroup(const RealCgroup&) = delete;
    RealCgroup& operator=(const RealCgroup&) = delete;

    // Why this test cannot run here, or empty.
    std::string skip_reason() const {
        if (::geteuid() != 0) return "not root";
        if (m_manager.layout() == CgroupLayout::None) return "no usable cgroups: " + m_manager.describe();
        return {};
    }
    const CgroupManager& manager() const { return m_manager; }
    const UnitCgroup& cgroup() const { return m_cgroup; }
    const std::string& parent_name() const { return m_parent_name; }

    // Forks a child that joins the unit's cgroup in every hierarchy (writing "0" to each cgroup.procs),
    // then runs `script` with sh. Returns the pid once the child has joined, or -1.
    pid_t spawn(const std::string& script) {
        const std::vector<std::string> files = m_cgroup.procs_files();
        int joined[2];
        if (::pipe2(joined, O_CLOEXEC) != 0) return -1;
        pid_t pid = ::fork();
        if (pid == 0) {
            for (const auto& file : files) {
                int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
                if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(120);
                ::close(fd);
            }
            if (::write(joined[1], "j", 1) != 1) ::_exit(121);
            ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(joined[1]);
        char byte;
        ssize_t n = pid > 0 ? ::read(joined[0], &byte, 1) : -1;
        ::close(joined[0]);
        if (pid > 0) m_children.push_back(pid);
        return n == 1 ? pid : -1;
    }

    // waitpid with a deadline; the status, or -1 when the child is still running.
    int wait_child(pid_t pid, std::chrono::milliseconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            int status;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                std::erase(m_children, pid);
                return status;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return -1;
    }

private:
    std::string m_unit;
    std::string m_parent_name;
    CgroupManager m_manager;
    UnitCgroup m_cgroup;
    std::vector<pid_t> m_children;
};

// The directory of the unit offering `file`, or empty.
std::string dir_with(const UnitCgroup& cg, const std::string& file) {
    for (const auto& dir : cg.dirs()) {
        if (std::filesystem::exists(dir + "/" + file)) return dir;
    }
    return {};
}

bool has_controller(const ProcCgroupEntry& e, const std::string& controller) {
    return std::find(e.controllers.begin(), e.controllers.end(), controller) != e.controllers.end();
}

}  // namespace

TEST_CASE("real cgroups: a child joins every hierarchy, limits are in force, kill_all and remove clean up") {
    RealCgroup real("join.service");
    if (auto why = real.skip_reason(); !why.empty()) {
        WARN("skipped: " << why);
        return;
    }
    INFO(real.manager().describe());
    CgroupLimits limits;
    limits.memory_max = 32ull << 20;
    limits.cpu_quota_usec = 200000;
    limits.tasks_max = 50;
    auto made = real.manager().create("join.service", limits);
    REQUIRE(made);
    const UnitCgroup& cg = real.cgroup();
    REQUIRE(made->dirs() == cg.dirs());

    pid_t child = real.spawn("exec sleep 30");
    REQUIRE(child > 0);

    // 1. The child's /proc/PID/cgroup names the unit in the memory and pids hierarchies (v2: the one line).
    auto mine = parse_proc_cgroup(file_text("/proc/self/cgroup"));
    auto its = parse_proc_cgroup(file_text("/proc/" + std::to_string(child) + "/cgroup"));
    auto check_hierarchy = [&](const std::string& controller) {
        INFO("hierarchy " << (controller.empty() ? "cgroup2" : controller));
        auto own = std::find_if(mine.begin(), mine.end(), [&](const ProcCgroupEntry& e) {
            return controller.empty() ? e.id == "0" && e.controllers.empty() : has_controller(e, controller);
        });
        REQUIRE(own != mine.end());
        auto line =
            std::find_if(its.begin(), its.end(), [&](const ProcCgroupEntry& e) { return e.id == own->id; });
        REQUIRE(line != its.end());
        CHECK(line->path == join_path(join_path(own->path, real.parent_name()), "join.service"));
    };
    if (real.manager().layout() == CgroupLayout::Hybrid) {
        check_hierarchy("memory");
        check_hierarchy("pids");
    }
    if (!dir_with(cg, "cgroup.events").empty()) check_hierarchy("");

    // 2. The limits, as the kernel reports them.
    if (auto dir = dir_with(cg, "memory.limit_in_bytes"); !dir.empty()) {
        CHECK(file_text(dir + "/memory.limit_in_bytes") == "33554432\n");
        CHECK(file_text(dir_with(cg, "cpu.cfs_quota_us") + "/cpu.cfs_quota_us") == "20000\n");
    } else {
        CHECK(file_text(dir_with(cg, "memory.max") + "/memory.max") == "33554432\n");
        CHECK(file_text(dir_with(cg, "cpu.max") + "/cpu.max") == "20000 100000\n");
    }
    CHECK(file_text(dir_with(cg, "pids.max") + "/pids.max") == "50\n");

    // 3. What status shows.
    CHECK(cg.populated());
    auto pids = cg.pids();
    CHECK(std::find(pids.begin(), pids.end(), child) != pids.end());
    CgroupStats stats = cg.stats();
    CHECK(stats.memory_bytes.has_value());
    CHECK(stats.cpu_usec.has_value());
    CHECK(stats.tasks == 1u);

    // 4. A busy cgroup is not removed, and says why.
    auto busy = cg.remove();
    REQUIRE_FALSE(busy);
    CHECK_THAT(busy.error(), Catch::Contains("Device or resource busy"));

    // 5. Kill, reap, remove.
    CHECK(cg.kill_all());
    int status = real.wait_child(child, std::chrono::seconds(5));
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    CHECK_FALSE(cg.populated());
    CHECK(cg.pids().empty());
    auto removed = cg.remove();
    CHECK(removed);
    INFO(removed.error());
    for (const auto& dir : cg.dirs()) CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("real cgroups: TasksMax= stops forks beyond the limit") {
    Subreaper subreaper;  // first, so it reaps after `real` has killed whatever is left
    RealCgroup real("forks.service");
    if (auto why = real.skip_reason(); !why.empty()) {
        WARN("skipped: " << why);
        return;
    }
    CgroupLimits limits;
    limits.tasks_max = 5;
    REQUIRE(real.manager().create("forks.service", limits));
    const UnitCgroup& cg = real.cgroup();

    // sh takes one task; it gives up (exit status 2, "Cannot fork") when a fork is refused.
    pid_t shell =
        real.spawn("exec 2>/dev/null; i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done; wait");
    REQUIRE(shell > 0);
    int status = real.wait_child(shell, std::chrono::seconds(10));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) != 0);

    CgroupStats stats = cg.stats();
    REQUIRE(stats.tasks.has_value());
    CHECK(*stats.tasks >= 1);
    CHECK(*stats.tasks <= 5);
    if (auto dir = dir_with(cg, "pids.events"); !dir.empty()) {
        CHECK(gitvisor::daemon::cgroup_detail::read_keyed_u64(dir + "/pids.events", "max").value_or(0) > 0);
    }

    CHECK(cg.kill_all());
    CHECK(cg.pids().empty());
    CHECK(cg.remove());
}

TEST_CASE("real cgroups: MemoryMax= OOM-kills a process that goes beyond it") {
    RealCgroup real("oom.service");
    if (auto why = real.skip_reason(); !why.empty()) {
        WARN("skipped: " << why);
        return;
    }
    CgroupLimits limits;
    limits.memory_max = 32ull << 20;
    REQUIRE(real.manager().create("oom.service", limits));
    const UnitCgroup& cg = real.cgroup();

    // tail keeps the last "line" of 100 MiB without a newline in memory: killed at 32 MiB (128 + SIGKILL).
    pid_t shell = real.spawn("exec 2>/dev/null; head -c 104857600 /dev/zero | tail >/dev/null; exit $?");
    REQUIRE(shell > 0);
    int status = real.wait_child(shell, std::chrono::seconds(20));
    // The kernel picks its victim in the cgroup: usually tail (the shell then exits 128 + SIGKILL), at times
    // the shell itself, which dies of SIGKILL. Either way the OOM killer acted, as counted below.
    const bool tail_killed = WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGKILL;
    const bool shell_killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    INFO("wait status " << status);
    CHECK((tail_killed || shell_killed));
    using gitvisor::daemon::cgroup_detail::read_keyed_u64;
    std::string dir = dir_with(cg, "memory.oom_control");
    auto kills = dir.empty() ? read_keyed_u64(dir_with(cg, "memory.events") + "/memory.events", "oom_kill")
                             : read_keyed_u64(dir + "/memory.oom_control", "oom_kill");
    CHECK(kills.value_or(0) >= 1);
    CHECK(cg.kill_all());
    CHECK(cg.remove());
}

TEST_CASE("real cgroups: detection on this machine") {
    const std::string parent = "gitvisor-test-" + std::to_string(::getpid()) + "-detect";
    CgroupManager m = CgroupManager::detect("/sys/fs/cgroup", "/proc/self/cgroup", parent);
    ParentsGuard guard(m.locate("x"));
    WARN("cgroups here: " << m.describe());
    if (::geteuid() != 0) {
        CHECK(m.layout() == CgroupLayout::None);
        return;
    }
    if (std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers")) {
        CHECK(m.layout() == CgroupLayout::Unified);
    } else if (std::filesystem::exists("/sys/fs/cgroup/memory/cgroup.procs")) {
        CHECK(m.layout() == CgroupLayout::Hybrid);
    }
}
