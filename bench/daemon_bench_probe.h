#pragma once
// What daemon_bench reads from the kernel and from gitvisor's run folder. The readers are cheap enough
// to poll every 0.2 ms (one open/read/close each, no streams), so polling adds little to what is measured.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gitvisor::bench {

using Clock = std::chrono::steady_clock;

double milliseconds_between(Clock::time_point from, Clock::time_point to);

// The whole file, or "" when it cannot be read.
std::string read_file(const std::string& path);

// The pids listed in a cgroup.procs file (empty when the cgroup is gone).
std::vector<pid_t> cgroup_pids(const std::string& procs_file);

// /proc/PID/comm without its newline: the program a process runs (after its execve), "" when gone.
std::string process_name(pid_t pid);

// /proc/PID/cmdline with the NUL separators turned into spaces, "" when gone.
std::string process_cmdline(pid_t pid);

// Every pid in /proc.
std::vector<pid_t> all_pids();

// From /proc/PID/smaps_rollup, in KiB. `ok` is false when the process is gone.
struct MemoryUse {
    bool ok = false;
    uint64_t rss_kib = 0;
    uint64_t pss_kib = 0;
    uint64_t private_kib = 0;  // Private_Clean + Private_Dirty
};
MemoryUse memory_of(pid_t pid);

// Context switches, voluntary and not, of every thread of a process (/proc/PID/task/*/status), or -1 when
// it is gone. A process asleep in poll() switches once per wake-up, so the growth of this count while
// nothing happens is how often it woke (bench/README.md, "at rest"). Reading it does not wake the process.
int64_t context_switches(pid_t pid);
// The same for each of `pids`, in order.
std::vector<int64_t> context_switches(const std::vector<pid_t>& pids);
// How much two such snapshots grew, summed over the processes present in both.
int64_t switches_between(const std::vector<int64_t>& before, const std::vector<int64_t>& after);

// The fields of a unit's status file (<run-dir>/units/<unit>/status, written by gitvisor-exec) that the
// benchmark needs. `ok` is false when the file is missing or not yet complete.
struct UnitStatus {
    bool ok = false;
    std::string invocation;
    std::string state;
    std::string sub_state;
    int64_t main_pid = 0;  // inside the unit's PID namespace
};
UnitStatus read_unit_status(const std::string& status_file);

// The first of the unit's cgroup.procs files named in its spec.json ("" without cgroups).
std::string unit_procs_file(const std::string& spec_file);

// The machine the figures were measured on.
struct Machine {
    int cores = 0;
    std::string cpu_model;
    std::string kernel;
    std::string cgroup_layout;  // "cgroup v2 (...)" or "hybrid cgroup v1 (...) + cgroup2 at ..."
    double memory_gib = 0;
};
Machine describe_machine();

// "tmpfs", "ext4", ... for the filesystem holding `path`.
std::string filesystem_type(const std::string& path);

// The 1-minute load average, as /proc/loadavg shows it.
std::string load_average();

// Nearest-rank percentile (p in 0..100) of `samples`; 0 for none.
double percentile(std::vector<double> samples, double p);

// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_tcp_port();

}  // namespace gitvisor::bench
