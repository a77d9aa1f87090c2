// What is done to one unit's cgroup. A UnitCgroup is only a list of directories, so each operation looks
// at which files a directory offers (memory.max or memory.limit_in_bytes, cgroup.kill, cgroup.events)
// rather than at the layout: one code path serves v2, each v1 hierarchy and the hybrid unified directory.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <string_view>

#include "daemon/cgroup/cgroup_internal.h"

namespace gitvisor::daemon {

using namespace cgroup_detail;

namespace {

// kill_all() gives processes this long to go: long enough for SIGKILL to be delivered and the exit to
// run, short enough not to stall the daemon's loop.
constexpr int kKillAttempts = 50;
constexpr long kKillPauseNsec = 20 * 1000 * 1000;

// rmdir of `dir` after the cgroups below it. Returns the error text, empty on success or when `dir` is gone.
std::string remove_tree(const std::string& dir) {
    std::string first_error;
    for (const auto& child : subdirectories(dir)) {
        std::string error = remove_tree(child);
        if (first_error.empty()) first_error = error;
    }
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return first_error;
    int err = errno;
    std::string message = "cannot remove cgroup '" + dir + "': " + errno_text(err);
    if (err == EBUSY) {
        std::vector<pid_t> left;
        collect_pids(dir, left);
        if (!left.empty()) {
            message += " (" + std::to_string(left.size()) + (left.size() == 1 ? " process" : " processes") +
                       " left)";
        }
    }
    return first_error.empty() ? message : first_error;
}

}  // namespace

std::vector<std::string> UnitCgroup::procs_files() const {
    std::vector<std::string> files;
    for (const auto& dir : m_dirs) files.push_back(join_path(dir, "cgroup.procs"));
    return files;
}

CgroupStats UnitCgroup::stats() const {
    CgroupStats s;
    for (const auto& dir : m_dirs) {
        if (!s.memory_bytes) s.memory_bytes = read_u64(join_path(dir, "memory.current"));
        if (!s.memory_bytes) s.memory_bytes = read_u64(join_path(dir, "memory.usage_in_bytes"));
        if (!s.cpu_usec) s.cpu_usec = read_keyed_u64(join_path(dir, "cpu.stat"), "usage_usec");
        if (!s.cpu_usec) {
            if (auto nsec = read_u64(join_path(dir, "cpuacct.usage"))) s.cpu_usec = *nsec / 1000;
        }
        if (!s.tasks) s.tasks = read_u64(join_path(dir, "pids.current"));
    }
    return s;
}

std::vector<pid_t> UnitCgroup::pids() const {
    std::vector<pid_t> all;
    for (const auto& dir : m_dirs) collect_pids(dir, all);
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    return all;
}

bool UnitCgroup::populated() const {
    for (const auto& dir : m_dirs) {
        // cgroup.events counts the whole subtree and ignores zombies; v1 has only the process lists.
        if (auto populated = read_keyed_u64(join_path(dir, "cgroup.events"), "populated")) {
            if (*populated != 0) return true;
            continue;
        }
        std::vector<pid_t> found;
        collect_pids(dir, found);
        if (!found.empty()) return true;
    }
    return false;
}

bool UnitCgroup::kill_all(int signal) const {
    for (int attempt = 0; attempt < kKillAttempts; ++attempt) {
        // cgroup.kill reaches every process at once, forks in flight included; the per-pid loop below
        // catches processes of v1 hierarchies that never joined the cgroup2 directory.
        if (signal == SIGKILL) {
            for (const auto& dir : m_dirs) {
                const std::string kill_file = join_path(dir, "cgroup.kill");
                if (path_exists(kill_file)) (void)write_text_errno(kill_file, "1");
            }
        }
        std::vector<pid_t> left = pids();
        if (left.empty()) return true;
        for (pid_t pid : left) ::kill(pid, signal);
        struct timespec pause = {0, kKillPauseNsec};
        ::nanosleep(&pause, nullptr);
    }
    return pids().empty();
}

Result<bool> UnitCgroup::remove() const {
    std::string first_error;
    for (const auto& dir : m_dirs) {
        std::string error = remove_tree(dir);
        if (first_error.empty()) first_error = error;
    }
    if (!first_error.empty()) return Result<bool>::fail(first_error);
    return Result<bool>::ok(true);
}

Result<bool> UnitCgroup::set_limits(const CgroupLimits& limits) const {
    std::vector<LimitWrite> writes = v1_limit_writes(limits);
    for (auto& w : v2_limit_writes(limits)) writes.push_back(std::move(w));

    // 1. Plan: every file some directory offers.
    std::vector<std::pair<std::string, const LimitWrite*>> plan;
    for (const auto& w : writes) {
        for (const auto& dir : m_dirs) {
            std::string file = join_path(dir, w.file);
            if (path_exists(file)) plan.emplace_back(file, &w);
        }
    }
    // A limit the unit asks for must find a file, or it would be silently ignored (controller not
    // mounted, or not enabled for the gitvisor parent).
    auto same_directive = [](const LimitWrite& a, const LimitWrite& b) {
        return std::string_view(a.directive) == b.directive;
    };
    for (const auto& w : writes) {
        if (!w.requested || std::any_of(plan.begin(), plan.end(),
                                        [&](const auto& p) { return same_directive(*p.second, w); })) {
            continue;
        }
        std::vector<std::string> files;
        for (const auto& other : writes) {
            if (same_directive(other, w) &&
                std::find(files.begin(), files.end(), other.file) == files.end()) {
                files.push_back(other.file);
            }
        }
        std::string listed;
        for (const auto& f : files) listed += (listed.empty() ? "" : " or ") + f;
        return Result<bool>::fail("cannot set " + std::string(w.directive) + " for cgroup '" +
                                  m_display_path + "': the " + w.controller +
                                  " controller is not available (no " + listed + ")");
    }

    // 2. Write, in the order of the lists (cpu.cfs_period_us before cpu.cfs_quota_us).
    for (const auto& [file, w] : plan) {
        if (auto written = write_text(file, w->value); !written) return written;
    }
    return Result<bool>::ok(true);
}

}  // namespace gitvisor::daemon
