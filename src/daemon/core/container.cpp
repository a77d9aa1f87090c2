// Stopping everything in order when gitvisord exits with --stop-units-on-exit or as a container's
// entrypoint (--container, or PID 1), critical units, and reaping orphans as PID 1 (issue: container mode).

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "common/time_format.h"
#include "daemon/core/daemon.h"

namespace gitvisor::daemon {

// Waves of `units` to stop: a unit stops before the units it was ordered after (After=, Before=) and before
// what it Requires=, BindsTo= or is PartOf=, the reverse of starting; the units of one wave in parallel.
std::vector<std::vector<std::string>> Daemon::stop_waves_of(const std::vector<std::string>& units) {
    const std::map<std::string, UnitDependencies> graph = dependency_graph();
    const std::set<std::string> set(units.begin(), units.end());
    std::map<std::string, std::set<std::string>> later;  // u -> units that stop after u
    std::map<std::string, int> waiting;                  // u -> units that must stop before u
    for (const std::string& u : units) waiting[u];
    const auto edge = [&](const std::string& first, const std::string& then) {
        if (first == then || !set.count(first) || !set.count(then)) return;
        if (later[first].insert(then).second) ++waiting[then];
    };
    for (const std::string& u : units) {
        const auto it = graph.find(u);
        if (it == graph.end()) continue;
        const UnitDependencies& d = it->second;
        for (const auto* list : {&d.after, &d.requires_, &d.binds_to, &d.part_of})
            for (const std::string& v : *list) edge(u, v);
        for (const std::string& v : d.before) edge(v, u);
    }
    std::vector<std::vector<std::string>> waves;
    std::set<std::string> done;
    while (done.size() < units.size()) {
        std::vector<std::string> wave;
        for (const auto& [u, n] : waiting)
            if (n == 0 && !done.count(u)) wave.push_back(u);
        if (wave.empty()) {  // an ordering cycle among what runs: the rest together
            for (const auto& [u, n] : waiting)
                if (!done.count(u)) wave.push_back(u);
        }
        for (const std::string& u : wave) {
            done.insert(u);
            for (const std::string& v : later[u]) --waiting[v];
        }
        waves.push_back(std::move(wave));
    }
    return waves;
}

// Stops every running unit wave by wave within `timeout_usec` in all; a unit still running when the time is
// up is killed. Returns 0 when every unit stopped cleanly (result success), else 1.
int Daemon::stop_all_units(int64_t timeout_usec) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(timeout_usec);
    const std::vector<std::string> running = m_supervisor->running_units();
    if (running.empty()) return 0;
    std::cerr << "gitvisord: stopping " << running.size() << " unit(s) in dependency order (at most "
              << timeout_usec / 1'000'000 << " s)\n";
    std::atomic<bool> clean{true};
    for (const std::vector<std::string>& wave : stop_waves_of(running)) {
        std::vector<std::thread> stoppers;
        for (const std::string& unit : wave) {
            stoppers.emplace_back([&, unit] {
                const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
                const int64_t own = timeout_usec_of(unit, "TimeoutStopSec", 10'000'000);
                int64_t allowed = std::max<int64_t>(left.count(), 0);
                if (own >= 0) allowed = std::min(allowed, own);
                if (allowed == 0) {
                    (void)m_supervisor->kill(unit, SIGKILL, true);
                    clean = false;
                }
                (void)m_supervisor->stop(unit, allowed);
                const std::optional<UnitRecord> r = m_store->get_unit(unit);
                if (r && r->result != "success") clean = false;
            });
        }
        for (std::thread& t : stoppers) t.join();
    }
    if (std::chrono::steady_clock::now() > deadline) clean = false;
    for (const std::string& unit : m_supervisor->running_units()) {
        std::cerr << "gitvisord: " << unit << " still runs after the shutdown timeout: killing it\n";
        (void)m_supervisor->kill(unit, SIGKILL, true);
        (void)m_supervisor->stop(unit, 0);
        clean = false;
    }
    return clean ? 0 : 1;
}

// A unit whose TimeoutStopSec= the running commit gives (fallback otherwise).
int64_t Daemon::timeout_usec_of(const std::string& unit, const char* key, uint64_t fallback) {
    const unitfile::Unit* loaded = nullptr;
    if (const std::string applied = m_store->applied_commit(); !applied.empty() && load_commit(applied))
        loaded = find_loaded(unit);
    return timeout_usec(loaded, key, fallback);
}

// Critical=yes or FailureAction=exit: failing for good ends gitvisord (and so every unit, in order).
void Daemon::on_critical_failure(const std::string& unit, int status) {
    {
        std::lock_guard lock(m_health_mutex);
        if (!m_critical_failure.empty()) return;
        m_critical_failure = unit;
        m_exit_status = status;
    }
    EventRecord e;
    e.time_usec = realtime_usec();
    e.kind = "unit";
    e.unit = unit;
    e.message = "failed for good and is critical: stopping every unit, gitvisord exits with status " + std::to_string(status);
    record_event(e);
    std::cerr << "gitvisord: critical unit " << unit << " failed: stopping every unit and exiting\n";
    ::kill(::getpid(), SIGTERM);  // the main thread's wait for a termination request ends
}

int Daemon::exit_status() {
    std::lock_guard lock(m_health_mutex);
    return m_exit_status;
}

// As PID 1 (a container), processes orphaned anywhere below become gitvisord's children: those that are not
// a gitvisor-exec (which the supervisor waits for) are reaped once they exit. Woken by SIGCHLD, which
// main() blocks in every thread (shutdown sends one to this thread); the minute's timeout is a safety net.
void Daemon::reap_orphans_loop() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    while (!m_shutting_down) {
        timespec wait{60, 0};
        (void)sigtimedwait(&set, nullptr, &wait);
        if (m_shutting_down || !m_supervisor) break;
        const auto no_spawn = m_supervisor->hold_spawns();
        DIR* tasks = opendir("/proc/self/task");
        if (!tasks) continue;
        std::vector<pid_t> children;
        for (dirent* t; (t = readdir(tasks)) != nullptr;) {
            if (t->d_name[0] == '.') continue;
            std::ifstream in(std::string("/proc/self/task/") + t->d_name + "/children");
            for (pid_t pid; in >> pid;) children.push_back(pid);
        }
        closedir(tasks);
        for (const pid_t pid : children) {
            if (m_supervisor->is_exec_pid(pid)) continue;
            int status = 0;
            (void)waitpid(pid, &status, WNOHANG);
        }
    }
}

}  // namespace gitvisor::daemon
