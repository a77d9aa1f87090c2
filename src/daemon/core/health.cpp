// Health in gitvisord (DESIGN §4): the checks of active units, restarting a unit that turns unhealthy, and the
// gate a deploy passes before it counts as applied.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/json.h"
#include "common/time_format.h"
#include "daemon/core/daemon.h"

namespace gitvisor::daemon {
namespace {

std::string seconds_text(uint64_t usec) {
    if (usec % 1'000'000 == 0) return std::to_string(usec / 1'000'000) + " s";
    return std::to_string(usec / 1000) + " ms";
}

// A state in which the unit is up: what its health check and the deploy gate look at.
bool is_up(const ExecStatus& s) { return s.state == "active" || s.state == "reloading"; }

constexpr uint64_t kYearUsec = 365ull * 24 * 3600 * 1'000'000;

// Established TCP connections whose local port is one of `ports`, as the network namespace of `pid` sees them
// (/proc/PID/net/tcp and tcp6: "sl local_address rem_address st ...", ports in hex, state 01 = established).
size_t established_connections(pid_t pid, const std::vector<uint16_t>& ports) {
    size_t count = 0;
    for (const char* table : {"tcp", "tcp6"}) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/net/" + table);
        std::string line;
        std::getline(in, line);  // the header
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string slot, local, remote, state;
            fields >> slot >> local >> remote >> state;
            const size_t colon = local.rfind(':');
            if (state != "01" || colon == std::string::npos) continue;
            const auto port = static_cast<uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16));
            if (std::find(ports.begin(), ports.end(), port) != ports.end()) ++count;
        }
    }
    return count;
}

}  // namespace

// DrainPorts=: the unit is `draining` (its /ready answers 503, so a load balancer stops sending to it), and
// its stop waits until no established connection is left on those ports, or DrainTimeoutSec= passed.
void Daemon::drain(const std::string& name) {
    DrainSpec spec;
    {
        std::lock_guard lock(m_health_mutex);
        const auto it = m_drain_specs.find(name);
        if (it == m_drain_specs.end()) return;
        spec = it->second;
    }
    const pid_t pid = m_supervisor->main_host_pid(name);
    const std::shared_ptr<HealthMonitor> health = health_monitor();
    if (pid <= 0 || !health) return;
    health->set_draining(name);
    const auto begun = std::chrono::steady_clock::now();
    const auto deadline = begun + std::chrono::microseconds(spec.timeout_usec);  // at most a year: no overflow
    size_t left = established_connections(pid, spec.ports);
    const size_t at_first = left;
    while (left > 0 && std::chrono::steady_clock::now() < deadline && !m_shutting_down) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        left = established_connections(pid, spec.ports);
    }
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - begun);
    EventRecord e;
    e.time_usec = realtime_usec();
    e.kind = "unit";
    e.unit = name;
    e.message = left == 0 ? "drained " + std::to_string(at_first) + " connection(s) in " + std::to_string(waited.count()) + " ms"
                          : "drain timed out after " + seconds_text(static_cast<uint64_t>(spec.timeout_usec)) + " with " +
                                std::to_string(left) + " connection(s) left; stopping";
    record_event(e);
}

std::shared_ptr<HealthMonitor> Daemon::health_monitor() {
    std::lock_guard lock(m_health_mutex);
    return m_health;
}

void Daemon::start_health() {
    auto monitor = std::make_shared<HealthMonitor>(
        [this](const std::string& unit, const HealthSpec& spec) { return probe(unit, spec); },
        [this](const std::string& unit, const HealthStatus& status, Health before) {
            on_health_change(unit, status, before);
        });
    {
        std::lock_guard lock(m_health_mutex);
        m_health = std::move(monitor);
    }
    m_health_thread = std::thread([this] { follow_up_loop(); });
}

void Daemon::stop_health() {
    std::shared_ptr<HealthMonitor> monitor;
    {
        std::lock_guard lock(m_health_mutex);
        m_health_quit = true;
        monitor = std::move(m_health);
    }
    m_health_wake.notify_all();
    if (m_health_thread.joinable()) m_health_thread.join();
    monitor.reset();  // joins its workers (their last checks may still ask a gitvisor-exec)
}

CheckOutcome Daemon::probe(const std::string& unit, const HealthSpec& spec) {
    switch (spec.kind) {
        case HealthSpec::Kind::Url: return check_http(spec.target, spec.timeout_usec);
        case HealthSpec::Kind::Tcp: return check_tcp(spec.target, spec.timeout_usec);
        case HealthSpec::Kind::None: return {true, ""};
        case HealthSpec::Kind::Exec: break;
    }
    // Run by the unit's gitvisor-exec, inside its namespace and cgroup, as its user; the answer may take
    // the check's timeout, plus a little for the way there and back.
    const std::string request = "{\"op\":\"health\",\"timeout_usec\":" + std::to_string(spec.timeout_usec) + "}";
    const Result<std::string> reply =
        m_supervisor->ask_reply(unit, request, static_cast<int>(spec.timeout_usec / 1000) + 2000);
    if (!reply) return {false, reply.error()};
    try {
        Poco::JSON::Parser parser;
        const auto o = parser.parse(*reply).extract<Poco::JSON::Object::Ptr>();
        return {o->optValue<bool>("healthy", false), o->optValue<std::string>("detail", "")};
    } catch (const std::exception& e) {
        return {false, std::string("unreadable answer from gitvisor-exec: ") + e.what()};
    }
}

void Daemon::on_health_change(const std::string& unit, const HealthStatus& status, Health before) {
    if (status.health != Health::Healthy && status.health != Health::Unhealthy) return;
    EventRecord e;
    e.time_usec = realtime_usec();
    e.kind = "health";
    e.unit = unit;
    if (status.health == Health::Healthy) {
        e.message = std::string("healthy (") + status.detail + ")";
    } else {
        e.message = "unhealthy after " + std::to_string(status.failures) + " failed check(s), last: " + status.detail +
                    "; restarting";
    }
    (void)before;
    record_event(e);
    if (status.health == Health::Unhealthy) {
        std::lock_guard lock(m_health_mutex);
        m_follow_ups.push_back({FollowUp::Kind::UnhealthyRestart, unit, status.detail});
        m_health_wake.notify_all();
    }
}

// Restarts units that turned unhealthy and starts failed units' OnFailure= units, one at a time, between
// deploys and requests (m_deploy_mutex).
void Daemon::follow_up_loop() {
    while (true) {
        FollowUp next;
        {
            std::unique_lock lock(m_health_mutex);
            m_health_wake.wait(lock, [&] { return m_health_quit || !m_follow_ups.empty(); });
            if (m_health_quit) return;
            next = m_follow_ups.front();
            m_follow_ups.pop_front();
        }
        const std::string& unit = next.unit;
        const std::string& why = next.why;
        std::lock_guard deploy_lock(m_deploy_mutex);
        if (next.kind == FollowUp::Kind::OnFailure) {
            start_on_failure_units(unit, why);
            continue;
        }
        // A deploy or a request may have restarted or stopped it meanwhile.
        const std::shared_ptr<HealthMonitor> health = health_monitor();
        if (!health || health->status(unit).health != Health::Unhealthy || !m_supervisor->running(unit)) continue;
        {
            std::lock_guard lock(m_health_mutex);
            m_unhealthy_stops.insert(unit);
        }
        std::cerr << "gitvisord: " << unit << " is unhealthy (" << why << "): restarting\n";
        if (Result<bool> stopped = stop_unit(unit, false, true); !stopped) {
            std::cerr << "gitvisord: cannot stop unhealthy " << unit << ": " << stopped.error() << "\n";
            continue;
        }
        if (Result<bool> started = start_unit(unit, "unhealthy", "-- restarted: unhealthy (" + why + ") --"); !started)
            std::cerr << "gitvisord: cannot restart unhealthy " << unit << ": " << started.error() << "\n";
    }
}

// OnFailure=: the units a failed unit names are started (those deployed here and not running already).
void Daemon::start_on_failure_units(const std::string& unit, const std::string& why) {
    const std::string applied = m_store->applied_commit();
    if (applied.empty() || !load_commit(applied)) return;
    const unitfile::Unit* failed = find_loaded(unit);
    const auto* targets = failed ? failed->get<std::vector<std::string>>("Unit", "OnFailure") : nullptr;
    if (!targets) return;
    for (const std::string& target : *targets) {
        if (!m_store->get_unit(target) || m_supervisor->running(target)) continue;
        set_held(target, false);
        const Result<bool> started = start_unit(target, "OnFailure= of " + unit, "-- started: " + unit + " failed (" + why + ") --");
        EventRecord e;
        e.time_usec = realtime_usec();
        e.kind = "unit";
        e.unit = target;
        e.message = started ? "started by OnFailure= of " + unit : "OnFailure= of " + unit + " could not start it: " + started.error();
        record_event(e);
    }
}

void Daemon::set_health_spec(const std::string& unit, const unitfile::Unit* loaded) {
    std::lock_guard lock(m_health_mutex);
    if (loaded == nullptr) {
        m_health_specs.erase(unit);
        m_drain_specs.erase(unit);
        m_critical_units.erase(unit);
        return;
    }
    // Critical=yes or FailureAction=exit/exit-force: the status gitvisord exits with when it fails for good.
    const bool* critical = loaded->get<bool>("X-Gitvisor", "Critical");
    const std::string* action = loaded->get<std::string>("Unit", "FailureAction");
    if ((critical && *critical) || (action && (*action == "exit" || *action == "exit-force"))) {
        const int64_t* status = loaded->get<int64_t>("Unit", "FailureActionExitStatus");
        m_critical_units[unit] = status ? static_cast<int>(*status) : 3;
    } else {
        m_critical_units.erase(unit);
    }
    DrainSpec drain;
    if (const auto* ports = loaded->get<std::vector<std::string>>("X-Gitvisor", "DrainPorts"))
        for (const std::string& p : *ports) drain.ports.push_back(static_cast<uint16_t>(std::stoi(p)));
    if (const auto* t = loaded->get<unitfile::Duration>("X-Gitvisor", "DrainTimeoutSec"))
        drain.timeout_usec = static_cast<int64_t>(std::min<uint64_t>(t->usec, kYearUsec));  // infinity: a year
    if (drain.ports.empty()) {
        m_drain_specs.erase(unit);
    } else {
        m_drain_specs[unit] = drain;
    }
    const HealthSpec spec = health_spec_of(*loaded);
    if (spec.enabled()) {
        m_health_specs[unit] = spec;
    } else {
        m_health_specs.erase(unit);
    }
}

void Daemon::follow_health(const std::string& unit, const ExecStatus& status, bool exited) {
    // The supervisor's thread reports a unit's states after it recorded them, and a start reports the state
    // it waited for: the two may arrive here out of order ("activating" after "active"). Acting on the newest
    // state the supervisor knows, one report at a time, keeps a late report from ending the checks a start
    // just began (a deploy's gate would then find no check to wait for).
    std::lock_guard serial(m_follow_health_mutex);
    ExecStatus latest = status;
    if (!exited)
        if (std::optional<ExecStatus> now = m_supervisor->status(unit)) latest = std::move(*now);
    std::unique_lock lock(m_health_mutex);
    const std::shared_ptr<HealthMonitor> health = m_health;
    if (!health) return;
    if (is_up(latest)) {
        const auto spec = m_health_specs.find(unit);
        if (spec == m_health_specs.end()) return;
        std::string& watched = m_health_invocation[unit];
        if (watched == latest.invocation) return;
        watched = latest.invocation;
        const HealthSpec copy = spec->second;
        lock.unlock();
        health->begin(unit, copy);
        return;
    }
    // Not up: no checks, and no `draining` left over for the next start.
    m_health_invocation.erase(unit);
    lock.unlock();
    health->end(unit);
}

std::string Daemon::health_of(const std::string& unit, std::string* detail) {
    const std::shared_ptr<HealthMonitor> health = health_monitor();
    if (!health) return "none";
    const HealthStatus s = health->status(unit);
    if (detail) *detail = s.detail;
    return to_string(s.health);
}

std::map<std::string, std::string> Daemon::gate_deploy(const std::vector<std::string>& started,
                                                        const unitfile::DeploySettings& settings) {
    std::map<std::string, std::string> failures;
    if (started.empty()) return failures;
    const auto begun = std::chrono::steady_clock::now();
    const auto deadline = begun + std::chrono::microseconds(settings.timeout_usec);
    std::map<std::string, int64_t> restarts;
    for (const std::string& unit : started)
        if (std::optional<ExecStatus> s = m_supervisor->status(unit)) restarts[unit] = s->restarts;

    const std::shared_ptr<HealthMonitor> health = health_monitor();
    for (const std::string& unit : started) {
        bool checked = false;
        {
            std::lock_guard lock(m_health_mutex);
            checked = m_health_specs.count(unit) > 0;
        }
        if (!checked || !health) continue;
        // Its checks begin when it is seen active (start_unit makes sure of that before the gate); one that
        // became active since is followed now.
        if (!health->watched(unit))
            if (std::optional<ExecStatus> s = m_supervisor->status(unit)) follow_health(unit, *s, false);
        const Health h = health->wait_settled(unit, deadline);
        const HealthStatus s = health->status(unit);
        if (h == Health::Unhealthy) {
            failures[unit] = "unhealthy: " + s.detail;
        } else if (h == Health::Starting) {
            failures[unit] = "not healthy within " + seconds_text(settings.timeout_usec) +
                             (s.detail.empty() ? std::string() : " (last check: " + s.detail + ")");
        }
    }
    // Up for MinReadySec= after the starts: a unit that exits at once, or crashes and is restarted, is caught.
    const auto ready_at = std::min(begun + std::chrono::microseconds(settings.effective_min_ready_usec()), deadline);
    while (std::chrono::steady_clock::now() < ready_at && !m_shutting_down)
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(ready_at - std::chrono::steady_clock::now(),
                                                                                  std::chrono::milliseconds(50)));
    for (const std::string& unit : started) {
        if (failures.count(unit)) continue;
        std::optional<ExecStatus> s = m_supervisor->status(unit);
        if (!s) {
            // Its gitvisor-exec is gone: a oneshot that finished, or a unit that failed for good.
            const std::optional<UnitRecord> r = m_store->get_unit(unit);
            if (!r) continue;
            s = ExecStatus{};
            s->state = r->state;
            s->sub_state = r->sub_state;
            s->result = r->result;
            s->restarts = r->restarts;
        }
        if (s->restarts > restarts[unit]) {
            failures[unit] = "restarted " + std::to_string(s->restarts - restarts[unit]) +
                             " time(s) while the deploy waited (result " + s->result + ")";
        } else if (s->state == "failed" || s->sub_state == "auto-restart" ||
                   (s->state == "inactive" && s->result != "success" && s->result != "condition")) {
            std::string why = "exited: result " + s->result;
            if (s->exit_signal && *s->exit_signal > 0) {
                why += ", signal " + std::to_string(*s->exit_signal);
            } else if (s->exit_code) {
                why += ", exit code " + std::to_string(*s->exit_code);
            }
            failures[unit] = why;
        }
    }
    return failures;
}

}  // namespace gitvisor::daemon
