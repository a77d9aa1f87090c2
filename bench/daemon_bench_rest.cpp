// Figure 11: gitvisor at rest with --rest-units units running: the memory of the supervision tree
// (gitvisord and the units' gitvisor-exec) and how often it wakes up while nothing happens. peer_bench
// measures runit and supervisord the same way, so bench/run can set the figures side by side.

#include <cstdio>
#include <stdexcept>

#include "daemon_bench.h"

namespace gitvisor::bench {
namespace {

const char* const kRestUnitText =
    "[Unit]\nDescription=daemon_bench: a unit at rest\n\n[Service]\nExecStart=/bin/sleep infinity\n";

}  // namespace

void Bench::at_rest() {
    // 1. The units, in one commit, until every one is active and the deploy is recorded.
    const int count = m_options.rest_units;
    std::vector<std::string> units;
    char name[64];
    for (int i = 0; i < count; ++i) {
        std::snprintf(name, sizeof name, "rest-%05d.service", i);
        units.push_back(name);
        m_files[name] = kRestUnitText;
    }
    const double timeout = 60 + count * 0.2;
    const UnitRepo::Landed added = commit("bench: " + std::to_string(count) + " units at rest");
    wait_units(units, true, timeout);
    wait_deployed(added.commit, timeout);

    // 2. Memory half a second later, as figure 5: gitvisord and the gitvisor-exec of these units (the
    //    three base units' are left out, so that the count matches the services of the peers).
    pause_for(std::chrono::milliseconds(500));
    const pid_t daemon = m_session.daemon_pid();
    std::vector<pid_t> tree = {daemon};
    const std::string ours = m_session.run_dir() + "/units/rest-";
    for (pid_t pid : all_pids())
        if (process_name(pid) == "gitvisor-exec" && process_cmdline(pid).find(ours) != std::string::npos)
            tree.push_back(pid);
    if (static_cast<int>(tree.size()) != count + 1)
        throw std::runtime_error("found " + std::to_string(tree.size() - 1) + " gitvisor-exec for " +
                                 std::to_string(count) + " units at rest");
    const MemoryUse daemon_use = memory_of(daemon);
    uint64_t total_pss = 0;
    for (pid_t pid : tree) total_pss += memory_of(pid).pss_kib;

    // 3. Wake-ups: context switches over --idle-seconds, 2 s after the deploy (what it started is done).
    pause_for(std::chrono::milliseconds(1500));
    const std::vector<int64_t> before = context_switches(tree);
    const Clock::time_point start = Clock::now();
    wait_until([] { return false; }, m_options.idle_seconds, std::chrono::milliseconds(100));
    const double window = milliseconds_between(start, Clock::now()) / 1000;
    const std::vector<int64_t> after = context_switches(tree);
    const int64_t daemon_wakeups = switches_between({before.front()}, {after.front()});
    const int64_t all_wakeups = switches_between(before, after);

    // 4. The units go.
    for (const std::string& u : units) m_files.erase(u);
    const UnitRepo::Landed removed = commit("bench: no more units at rest");
    wait_units(units, false, timeout);
    wait_deployed(removed.commit, timeout);

    const std::string n = thousands(count);
    const std::string seconds =
        std::to_string(m_options.idle_seconds) + " s" + (m_options.http_port ? " (--http on)" : "");
    const auto mb = [](uint64_t kib) { return static_cast<double>(kib) * 1024.0 / 1e6; };
    add({"rest_total_pss_mb",
         "PSS of gitvisord + " + n + " gitvisor-exec, " + n + " units at rest",
         mb(total_pss),
         "MB",
         std::nullopt,
         {},
         "0.5 s after the deploy of " + n +
             " units: sum of smaps_rollup Pss of gitvisord and of those units' "
             "gitvisor-exec (the base units' and the units' own processes not counted)"});
    add({"rest_daemon_pss_mb",
         "  gitvisord alone",
         mb(daemon_use.pss_kib),
         "MB",
         std::nullopt,
         {},
         "/proc/PID/smaps_rollup Pss of gitvisord at the same moment"});
    char method[256];
    std::snprintf(method, sizeof method,
                  "voluntary + nonvoluntary context switches of every thread (/proc/PID/task/*/status) "
                  "over %.1f s, from 2 s after the deploy",
                  window);
    add({"idle_wakeups_total",
         "wake-ups in " + seconds + " at rest: gitvisord + " + n + " gitvisor-exec",
         static_cast<double>(all_wakeups),
         "",
         std::nullopt,
         {static_cast<double>(all_wakeups)},
         method});
    add({"idle_wakeups_daemon",
         "  gitvisord alone",
         static_cast<double>(daemon_wakeups),
         "",
         std::nullopt,
         {static_cast<double>(daemon_wakeups)},
         method});
}

}  // namespace gitvisor::bench
