#pragma once
// cgroups for units (DESIGN §4, STACK.md "cgroups"): one cgroup per unit under a "gitvisor" parent nested
// in gitvisord's own cgroup. Two layouts, detected at start-up:
//   - v2 (unified): /sys/fs/cgroup/cgroup.controllers exists; limits in memory.max, memory.high,
//     cpu.max, cpu.weight, pids.max; the parent enables +memory +pids +cpu in cgroup.subtree_control.
//   - hybrid/v1: controllers mounted at /sys/fs/cgroup/<controller> (memory, cpu/cpuacct, pids, ...);
//     one directory per hierarchy; limits in memory.limit_in_bytes, memory.soft_limit_in_bytes,
//     cpu.cfs_quota_us/cpu.cfs_period_us, cpu.shares, pids.max; plus a directory in the cgroup2 mount
//     at /sys/fs/cgroup/unified when present (cgroup.kill, cgroup.events "populated").
// Nothing here forks or execs: processes join by writing to cgroup.procs (gitvisor-exec does it itself).

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace gitvisor::daemon {

enum class CgroupLayout { Unified, Hybrid, None };
const char* cgroup_layout_name(CgroupLayout layout);  // "cgroup v2", "hybrid cgroup v1", "none"

struct CgroupLimits {
    std::optional<uint64_t> memory_max;      // bytes (MemoryMax=, or MemoryLimit= when MemoryMax= is unset)
    std::optional<uint64_t> memory_high;     // bytes
    std::optional<uint64_t> cpu_quota_usec;  // CPU µs per second of wall time (CPUQuota=20% -> 200000)
    std::optional<uint64_t> cpu_weight;      // 1..10000 (v1: cpu.shares = weight * 1024 / 100)
    std::optional<uint64_t> tasks_max;
    bool operator==(const CgroupLimits&) const = default;
};

struct CgroupStats {
    std::optional<uint64_t> memory_bytes;  // memory.current / memory.usage_in_bytes
    std::optional<uint64_t> cpu_usec;      // cpu.stat usage_usec / cpuacct.usage / 1000
    std::optional<uint64_t> tasks;         // pids.current
};

// One statistics file of a unit, open: what it holds and its descriptor.
struct StatFile {
    enum class Kind { MemoryBytes, CpuStat, CpuacctNsec, Tasks } kind;
    int fd = -1;
};

// The directories of one unit's cgroup, one per hierarchy. Copyable; holds no file descriptors.
class UnitCgroup {
public:
    UnitCgroup() = default;
    UnitCgroup(std::string display_path, std::vector<std::string> dirs)
        : m_display_path(std::move(display_path)), m_dirs(std::move(dirs)) {}

    // The unit's cgroup as /proc/PID/cgroup shows it, in the v2 hierarchy or (hybrid) the memory one:
    // "/system.slice/gitvisord.service/gitvisor/web.service". What status shows as `cgroup`.
    const std::string& display_path() const { return m_display_path; }
    // One directory per hierarchy: v2 one; hybrid memory, pids, cpu, cpuacct (as mounted), then the
    // unified directory last when there is one (the v2 directory for CLONE_INTO_CGROUP).
    const std::vector<std::string>& dirs() const { return m_dirs; }
    std::vector<std::string> procs_files() const;  // <dir>/cgroup.procs for every directory

    // Each value from the first directory that offers it; unset when none does.
    CgroupStats stats() const;
    // The files stats() reads, opened (the caller closes them), for reading again and again with
    // read_stat_files(): no path walk through cgroupfs after the first time.
    std::vector<StatFile> open_stat_files() const;
    // Union of the cgroup.procs of every directory and of the cgroups below them (zombies are not listed).
    std::vector<pid_t> pids() const;
    // Any process left: cgroup.events "populated" where it exists (v2, hybrid unified), else any pid.
    bool populated() const;
    // SIGKILL through cgroup.kill where available, else `signal` to every pid (repeated until empty or
    // the attempts run out: blocks for at most about one second). Returns true when the cgroup is empty
    // afterwards.
    bool kill_all(int signal = 9) const;
    // rmdir of every directory (children first); a missing directory is fine. Fails, naming the
    // directory and "Device or resource busy", while a process is left.
    Result<bool> remove() const;
    // Writes every limit to each directory offering its file (memory.max, memory.limit_in_bytes, ...);
    // unset limits are written as "max"/-1 so a limit removed from the unit is lifted. Fails when a limit
    // that is set finds no file (its controller is missing), or naming the file and errno on a write.
    Result<bool> set_limits(const CgroupLimits& limits) const;

private:
    std::string m_display_path;
    std::vector<std::string> m_dirs;
};

class CgroupManager {
public:
    // Detects the layout under `root` using `proc_self_cgroup` to find gitvisord's own cgroup in each
    // hierarchy; `parent_name` is the folder made for units there. The paths are parameters so tests
    // can point them at a fake tree in a temporary directory. Makes the parent in every hierarchy (v2:
    // enables +memory +pids +cpu for it, moving gitvisord into "<parent_name>-daemon" when its own cgroup
    // must give up its processes to do so). Layout None when nothing usable is mounted or gitvisord may not
    // write there (not root, read-only mount); describe() then says why.
    static CgroupManager detect(const std::string& root = "/sys/fs/cgroup",
                                const std::string& proc_self_cgroup = "/proc/self/cgroup",
                                const std::string& parent_name = "gitvisor");

    CgroupLayout layout() const { return m_layout; }
    // One line for the start-up log and `status`: "hybrid cgroup v1, units under <dir> (memory pids cpu
    // cpuacct unified)", "cgroup v2, units under <dir> (memory pids cpu)", "none (<reason>)".
    std::string describe() const;

    // Creates (or reuses) the unit's directories and writes its limits. Names are unit names. On failure
    // the message names the file and the errno text, and the unit's directories are removed again
    // (those still holding a process stay).
    Result<UnitCgroup> create(const std::string& unit, const CgroupLimits& limits) const;
    // The unit's directories, whether or not they exist (for re-adoption and clean-up).
    UnitCgroup locate(const std::string& unit) const;
    // Removes the parent folders once no unit is left in them (gitvisord exiting after stopping every
    // unit); a parent still holding a unit's folder stays. True when all are gone.
    bool remove_parents() const;

private:
    CgroupLayout m_layout = CgroupLayout::None;
    std::string m_display_parent;        // e.g. "/user.slice/.../gitvisor"
    std::vector<std::string> m_parents;  // the parent directory in every hierarchy used
    std::vector<std::string> m_names;    // v2: controllers enabled; hybrid: hierarchies used
    bool m_unified_in_hybrid = false;
    std::string m_reason;  // why the layout is None, or what is missing
};

// The statistics from files open_stat_files() opened; nullopt when one cannot be read (the cgroup is gone).
std::optional<CgroupStats> read_stat_files(const std::vector<StatFile>& files);

// Keeps every running unit's statistics files open between reads: /metrics with 1,000 units then costs
// 3,000 preads instead of 3,000 path walks through cgroupfs. Thread-safe.
class CgroupStatsCache {
public:
    CgroupStatsCache() = default;
    ~CgroupStatsCache();
    CgroupStatsCache(const CgroupStatsCache&) = delete;
    CgroupStatsCache& operator=(const CgroupStatsCache&) = delete;

    // The unit's statistics. `generation` (its gitvisor-exec's pid) changes when its cgroup may be new.
    CgroupStats read(const UnitCgroup& cgroup, const std::string& unit, int64_t generation);
    // Closes the files of every unit not named in `units` (sorted).
    void retain(const std::vector<std::string>& units);

private:
    struct Open {
        int64_t generation = 0;
        std::vector<StatFile> files;
    };
    static void close_all(Open& open);
    std::mutex m_mutex;
    std::map<std::string, Open> m_units;
};

}  // namespace gitvisor::daemon
