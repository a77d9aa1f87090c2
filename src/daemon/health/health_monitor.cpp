#include "daemon/health/health_monitor.h"

#include <algorithm>

#include "common/time_format.h"

namespace gitvisor::daemon {

const char* to_string(Health health) {
    switch (health) {
        case Health::Starting: return "starting";
        case Health::Healthy: return "healthy";
        case Health::Unhealthy: return "unhealthy";
        case Health::Draining: return "draining";
        case Health::None: break;
    }
    return "none";
}

HealthMonitor::HealthMonitor(Probe probe, Listener listener, size_t workers)
    : m_probe(std::move(probe)), m_listener(std::move(listener)) {
    m_scheduler = std::thread([this] { scheduler_loop(); });
    for (size_t i = 0; i < std::max<size_t>(workers, 1); ++i) m_workers.emplace_back([this] { worker_loop(); });
}

HealthMonitor::~HealthMonitor() {
    {
        std::lock_guard lock(m_mutex);
        m_quit = true;
    }
    m_due_changed.notify_all();
    m_jobs_changed.notify_all();
    m_health_changed.notify_all();
    m_scheduler.join();
    for (std::thread& t : m_workers) t.join();
}

namespace {

// Checks fall due on 10 ms boundaries: those of many units due about the same time are handed out together,
// one wake-up of the scheduler and of a worker for a batch rather than for each check.
constexpr std::chrono::milliseconds kSlot(10);

std::chrono::steady_clock::time_point slot_of(std::chrono::steady_clock::time_point t) {
    const auto since = t.time_since_epoch();
    const auto slots = (since + kSlot - std::chrono::steady_clock::duration(1)) / kSlot;
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(slots * kSlot));
}

}  // namespace

void HealthMonitor::schedule(const std::string& unit, const Entry& entry, Clock::time_point when) {
    when = slot_of(when);
    const bool earliest = m_due.empty() || when < m_due.begin()->first;
    m_due.emplace(when, std::make_pair(unit, entry.generation));
    if (earliest) m_due_changed.notify_one();
}

void HealthMonitor::begin(const std::string& unit, const HealthSpec& spec) {
    if (!spec.enabled()) {
        end(unit);
        return;
    }
    Health before;
    HealthStatus now;
    {
        std::lock_guard lock(m_mutex);
        Entry& entry = m_units[unit];
        before = entry.status.health;
        entry = Entry{};
        entry.spec = spec;
        entry.generation = ++m_generations;
        entry.started = Clock::now();
        entry.status.health = Health::Starting;
        schedule(unit, entry, entry.started);
        now = entry.status;
    }
    m_health_changed.notify_all();
    if (before != Health::Starting) m_listener(unit, now, before);
}

void HealthMonitor::end(const std::string& unit) {
    Health before = Health::None;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_units.find(unit);
        if (it == m_units.end()) return;
        before = it->second.status.health;
        m_units.erase(it);  // its queued check finds no entry (or a newer generation) and is dropped
    }
    m_health_changed.notify_all();
    if (before != Health::None) m_listener(unit, HealthStatus{}, before);
}

void HealthMonitor::set_draining(const std::string& unit) {
    Health before = Health::None;
    HealthStatus now;
    {
        std::lock_guard lock(m_mutex);
        Entry& entry = m_units[unit];
        before = entry.status.health;
        entry.generation = ++m_generations;  // checks in flight or queued no longer count
        entry.status.health = Health::Draining;
        now = entry.status;
    }
    m_health_changed.notify_all();
    if (before != Health::Draining) m_listener(unit, now, before);
}

HealthStatus HealthMonitor::status(const std::string& unit) const {
    std::lock_guard lock(m_mutex);
    auto it = m_units.find(unit);
    return it == m_units.end() ? HealthStatus{} : it->second.status;
}

bool HealthMonitor::watched(const std::string& unit) const {
    std::lock_guard lock(m_mutex);
    return m_units.count(unit) > 0;
}

Health HealthMonitor::wait_settled(const std::string& unit, Clock::time_point deadline) {
    std::unique_lock lock(m_mutex);
    while (true) {
        auto it = m_units.find(unit);
        const Health h = it == m_units.end() ? Health::None : it->second.status.health;
        if (h != Health::Starting || m_quit || m_interrupted) return h;
        if (m_health_changed.wait_until(lock, deadline) == std::cv_status::timeout) {
            it = m_units.find(unit);
            return it == m_units.end() ? Health::None : it->second.status.health;
        }
    }
}

void HealthMonitor::interrupt() {
    {
        std::lock_guard lock(m_mutex);
        m_interrupted = true;
    }
    m_health_changed.notify_all();
}

void HealthMonitor::scheduler_loop() {
    std::unique_lock lock(m_mutex);
    while (!m_quit) {
        const Clock::time_point now = Clock::now();
        bool queued = false;
        while (!m_due.empty() && m_due.begin()->first <= now) {
            const auto [unit, generation] = m_due.begin()->second;
            m_due.erase(m_due.begin());
            auto it = m_units.find(unit);
            if (it == m_units.end() || it->second.generation != generation || it->second.in_flight) continue;
            it->second.in_flight = true;
            m_jobs.push_back({unit, generation, it->second.spec});
            queued = true;
        }
        // One worker takes a batch, check after check. Checks still waiting a slot later mean the busy
        // workers wait for slow answers: one more worker is woken each slot while they do.
        if ((queued || !m_jobs.empty()) && m_idle_workers > 0) m_jobs_changed.notify_one();
        Clock::time_point wake = m_due.empty() ? Clock::time_point::max() : m_due.begin()->first;
        if (!m_jobs.empty()) wake = std::min(wake, now + kSlot);
        if (wake == Clock::time_point::max()) {
            m_due_changed.wait(lock);
        } else {
            m_due_changed.wait_until(lock, wake);
        }
    }
}

void HealthMonitor::worker_loop() {
    std::unique_lock lock(m_mutex);
    while (true) {
        ++m_idle_workers;
        m_jobs_changed.wait(lock, [&] { return m_quit || !m_jobs.empty(); });
        --m_idle_workers;
        if (m_quit) return;
        Job job = std::move(m_jobs.front());
        m_jobs.pop_front();
        lock.unlock();
        CheckOutcome outcome;
        try {
            outcome = m_probe(job.unit, job.spec);
        } catch (const std::exception& e) {
            outcome = {false, e.what()};
        }
        finish(job, outcome);
        lock.lock();
    }
}

void HealthMonitor::finish(const Job& job, const CheckOutcome& outcome) {
    Health before = Health::None;
    HealthStatus now;
    bool changed = false;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_units.find(job.unit);
        if (it == m_units.end() || it->second.generation != job.generation) return;
        Entry& entry = it->second;
        entry.in_flight = false;
        before = entry.status.health;
        const Clock::time_point t = Clock::now();
        const auto interval = std::chrono::microseconds(entry.spec.interval_usec);
        entry.status.detail = outcome.detail;
        entry.status.last_check_usec = realtime_usec();
        ++entry.status.checks;
        if (outcome.healthy) {
            entry.status.failures = 0;
            entry.status.health = Health::Healthy;
        } else {
            const bool in_grace = t - entry.started < std::chrono::microseconds(entry.spec.start_period_usec);
            const bool counts = entry.status.health != Health::Starting ||
                                (!in_grace && (!entry.counted_any || t - entry.last_counted >= interval));
            if (counts) {
                ++entry.status.failures;
                entry.last_counted = t;
                entry.counted_any = true;
            }
            if (entry.status.failures >= entry.spec.retries) entry.status.health = Health::Unhealthy;
        }
        now = entry.status;
        changed = now.health != before;
        // An unhealthy unit is checked no more: it is restarted, and its next start begins anew.
        if (now.health == Health::Starting)
            schedule(job.unit, entry, t + std::min<Clock::duration>(interval, std::chrono::seconds(1)));
        else if (now.health == Health::Healthy)
            schedule(job.unit, entry, t + interval);
    }
    if (changed) {
        m_health_changed.notify_all();
        m_listener(job.unit, now, before);
    }
}

}  // namespace gitvisor::daemon
