#pragma once
// Runs every active unit's health check on its own schedule, without blocking anything else (DESIGN §4).
//
// One scheduler thread keeps the due times; a small pool of workers runs the checks, so a check that waits
// for its timeout holds up only itself, and hundreds of units can be checked at once. Due times fall on
// 10 ms slots, and the checks of a slot go to one worker while they are quick (more when they wait).
// A unit is `starting` from the moment it becomes active until a check passes (`healthy`);
// `HealthCheckRetries=` failed checks in a row make it `unhealthy`, and the listener restarts it.
//
// Until the first check passes, a unit is checked every second (or every HealthCheckInterval=, when that is
// shorter), so that a deploy learns quickly that it is up; a failed check then counts only after
// HealthCheckStartPeriod= and at most once per interval, so a slow start is not taken for a failure.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/health/health_check.h"

namespace gitvisor::daemon {

enum class Health { None, Starting, Healthy, Unhealthy, Draining };
const char* to_string(Health health);

struct HealthStatus {
    Health health = Health::None;
    std::string detail;           // the outcome of the last check, "" before the first
    int64_t last_check_usec = 0;  // CLOCK_REALTIME µs of the last check
    int failures = 0;             // failed checks counted in a row
    int64_t checks = 0;
};

class HealthMonitor {
public:
    // Runs one check of `unit` (blocking, bounded by spec.timeout_usec).
    using Probe = std::function<CheckOutcome(const std::string& unit, const HealthSpec& spec)>;
    // A unit's health changed; called on a worker thread without the monitor's lock.
    using Listener = std::function<void(const std::string& unit, const HealthStatus& status, Health before)>;

    HealthMonitor(Probe probe, Listener listener, size_t workers = 8);
    ~HealthMonitor();
    HealthMonitor(const HealthMonitor&) = delete;
    HealthMonitor& operator=(const HealthMonitor&) = delete;

    // The unit became active (a start, a restart): it is `starting` and its checks begin now. A unit
    // without a check is not watched.
    void begin(const std::string& unit, const HealthSpec& spec);
    // The unit stopped, failed or was removed: no more checks, health `none`.
    void end(const std::string& unit);
    // The unit is being stopped behind a load balancer: `draining`, no more checks.
    void set_draining(const std::string& unit);

    HealthStatus status(const std::string& unit) const;
    bool watched(const std::string& unit) const;
    // Waits until the unit is healthy, unhealthy or not watched, or `deadline` passes; its health then.
    Health wait_settled(const std::string& unit, std::chrono::steady_clock::time_point deadline);
    // Ends every wait_settled() in progress, and makes later ones return at once (a daemon exiting).
    void interrupt();

private:
    using Clock = std::chrono::steady_clock;
    struct Entry {
        HealthSpec spec;
        HealthStatus status;
        uint64_t generation = 0;
        bool in_flight = false;
        Clock::time_point started;
        Clock::time_point last_counted;  // the last failure that counted
        bool counted_any = false;
    };
    struct Job {
        std::string unit;
        uint64_t generation = 0;
        HealthSpec spec;
    };

    void schedule(const std::string& unit, const Entry& entry, Clock::time_point when);  // m_mutex held
    void scheduler_loop();
    void worker_loop();
    void finish(const Job& job, const CheckOutcome& outcome);

    Probe m_probe;
    Listener m_listener;
    mutable std::mutex m_mutex;
    std::condition_variable m_due_changed;   // the scheduler: a new earliest due time, or quit
    std::condition_variable m_jobs_changed;  // the workers: a job to run, or quit
    std::condition_variable m_health_changed;
    std::map<std::string, Entry> m_units;
    std::multimap<Clock::time_point, std::pair<std::string, uint64_t>> m_due;
    std::deque<Job> m_jobs;
    uint64_t m_generations = 0;
    size_t m_idle_workers = 0;  // workers waiting for a job
    bool m_quit = false;
    bool m_interrupted = false;
    std::thread m_scheduler;
    std::vector<std::thread> m_workers;
};

}  // namespace gitvisor::daemon
