#pragma once
// Shared by cgroup.cpp, cgroup_unit.cpp, cgroup_fs.cpp, cgroup_v1.cpp and cgroup_v2.cpp; not part of the
// module's interface. Every path is a plain string so the same code runs against /sys/fs/cgroup and against
// a fake tree in a temporary directory.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "daemon/cgroup/cgroup.h"

namespace gitvisor::daemon::cgroup_detail {

// --- Files (cgroup_fs.cpp) ---------------------------------------------------------------------------

std::string errno_text(int err);
// "a" + "/" + "b" without doubling or leaving a trailing slash ("/x" + "/" is "/x").
std::string join_path(const std::string& dir, const std::string& name);
bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
std::optional<std::string> read_text(const std::string& path);
// One write(2) of `value` (cgroupfs takes a value per write). Fails with
// "cannot write '<path>': <reason> (value '<value>')".
Result<bool> write_text(const std::string& path, const std::string& value);
// The same write, returning errno (0 on success) for callers that react to a particular error.
int write_text_errno(const std::string& path, const std::string& value);
// mkdir; an existing directory is fine. ok(true) when it was made now, ok(false) when it existed.
Result<bool> make_directory(const std::string& path);
// The first number in the file ("12345\n").
std::optional<uint64_t> read_u64(const std::string& path);
// The value of `key` in a "key value" per line file (cpu.stat, cgroup.events).
std::optional<uint64_t> read_keyed_u64(const std::string& path, const std::string& key);
// The value of the line "key value" of a flat-keyed text (cpu.stat, memory.stat).
std::optional<uint64_t> keyed_u64(const std::string& text, const std::string& key);
std::vector<std::string> subdirectories(const std::string& dir);
// cgroup.procs of `dir` and of every cgroup below it.
void collect_pids(const std::string& dir, std::vector<pid_t>& out);

// --- /proc/self/cgroup (cgroup_fs.cpp) ---------------------------------------------------------------

// One line "hierarchy-ID:controller-list:path": "4:memory:/a", "5:cpu,cpuacct:/a", "0::/a" (cgroup2).
struct ProcCgroupEntry {
    std::string id;
    std::vector<std::string> controllers;  // empty for cgroup2; "name=systemd" kept as is
    std::string path;
};
std::vector<ProcCgroupEntry> parse_proc_cgroup(const std::string& text);

// --- Detection (cgroup_v1.cpp, cgroup_v2.cpp) --------------------------------------------------------

struct Detection {
    CgroupLayout layout = CgroupLayout::None;
    std::string display_parent;
    std::vector<std::string> parents;  // the parent directory in every hierarchy used
    std::vector<std::string> names;    // v2: controllers enabled; hybrid: hierarchies ("memory", "unified")
    bool unified_in_hybrid = false;
    std::string reason;  // why the layout is None
};

Detection none(std::string reason);
// Fails when gitvisord may not create cgroups in `dir` (not root, read-only mount).
Result<bool> check_writable(const std::string& dir);

Detection detect_unified(const std::string& root, const std::vector<ProcCgroupEntry>& entries,
                         const std::string& parent_name);
Detection detect_hybrid(const std::string& root, const std::vector<ProcCgroupEntry>& entries,
                        const std::string& parent_name);

// v2: makes the gitvisor parent and enables `controllers` for its children. Also used by create() when the
// parent has gone missing since start-up.
Result<bool> v2_prepare_parent(const std::string& parent, const std::vector<std::string>& controllers);

// --- Limits (cgroup_v1.cpp, cgroup_v2.cpp) -----------------------------------------------------------

// One file a limit is written to. A unit directory gets every write whose file it offers, so one list
// serves a v2 directory, each v1 hierarchy and the hybrid unified directory alike.
struct LimitWrite {
    const char* directive;   // "MemoryMax=", for messages
    const char* controller;  // "memory", for messages
    const char* file;        // "memory.max"
    std::string value;       // "max" (or "-1" on v1) when the limit is unset, so a removed limit is cleared
    bool requested;          // the unit sets this limit: some directory must offer a file for it
};

std::vector<LimitWrite> v1_limit_writes(const CgroupLimits& limits);
std::vector<LimitWrite> v2_limit_writes(const CgroupLimits& limits);

// CFS period used on both layouts, and the kernel's smallest quota per period.
inline constexpr uint64_t kCpuPeriodUsec = 100000;
inline constexpr uint64_t kCpuMinQuotaUsec = 1000;
// The quota per period for a quota given per second of wall time (CPUQuota=20% is 200000 µs/s).
uint64_t cpu_quota_per_period(uint64_t quota_usec_per_second);

}  // namespace gitvisor::daemon::cgroup_detail
