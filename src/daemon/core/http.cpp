// gitvisord's side of the HTTP endpoint (DESIGN §8): control requests as on the control socket, /metrics
// from a snapshot, and /v1/units/NAME/ready for load balancers.

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "daemon/core/daemon.h"
#include "daemon/core/responses.h"

namespace gitvisor::daemon {
namespace {

// The token file's first line, without surrounding blanks.
Result<std::string> read_token(const std::string& path) {
    std::ifstream in(path);
    if (!in) return Result<std::string>::fail("cannot read the HTTP token file '" + path + "': " + std::strerror(errno));
    std::string token;
    std::getline(in, token);
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!token.empty() && blank(token.back())) token.pop_back();
    while (!token.empty() && blank(token.front())) token.erase(0, 1);
    if (token.empty()) return Result<std::string>::fail("the HTTP token file '" + path + "' is empty");
    return Result<std::string>::ok(token);
}

}  // namespace

Result<bool> Daemon::start_http() {
    if (m_options.http_address.empty()) return Result<bool>::ok(true);
    HttpOptions options;
    options.address = m_options.http_address;
    options.max_body_bytes = 4 * 1024 * 1024;  // git servers' push payloads (read and ignored)
    if (!m_options.http_token_file.empty()) {
        const Result<std::string> token = read_token(m_options.http_token_file);
        if (!token) return Result<bool>::fail(token.error());
        options.token = *token;
    }
    HttpHandlers handlers;
    handlers.control = [this](const Poco::JSON::Object::Ptr& request, bool authorised) {
        // GET /healthz, polled by load balancers and monitors, is answered without an audit event each time.
        if (request->optValue<std::string>("cmd", "") == "ping") {
            Poco::JSON::Object::Ptr pong = ok_response();
            pong->set("isolation", describe_isolation());
            return pong;
        }
        // Reads are open as on the control socket (without the log lines of `status`); the only change
        // the endpoint offers, sync, comes with the token.
        Caller caller;
        caller.may_change = authorised;
        if (request->optValue<std::string>("cmd", "") == "sync") {
            Poco::JSON::Object::Ptr queued = new Poco::JSON::Object(*request);
            queued->set("wait", false);
            return handle(queued, caller);
        }
        return handle(request, caller);
    };
    handlers.metrics = [this] { return render_metrics(metrics_snapshot()); };
    handlers.ready = [this](const std::string& unit) { return ready_of(unit); };
    auto endpoint = HttpEndpoint::start(options, handlers);
    if (!endpoint) return Result<bool>::fail(endpoint.error());
    m_http = std::move(*endpoint);
    std::cerr << "gitvisord: HTTP endpoint on " << m_options.http_address << " (port " << m_http->port() << ")"
              << (options.token.empty() ? "; POST /v1/sync is off (no --http-token-file)" : "") << "\n";
    return Result<bool>::ok(true);
}

MetricsSnapshot Daemon::metrics_snapshot() {
    MetricsSnapshot snapshot;
    const std::vector<UnitRecord> records = m_store->list_units();
    snapshot.units.resize(records.size());
    const bool cgroups = m_supervisor->cgroups().layout() != CgroupLayout::None;
    const auto fill = [&](size_t i) {
        const UnitRecord& r = records[i];
        UnitMetrics& u = snapshot.units[i];
        u.name = r.name;
        u.state = r.state;
        u.sub_state = r.sub_state;
        u.health = r.exec_pid > 0 ? health_of(r.name) : "none";
        u.restarts = r.restarts;
        if (r.exec_pid > 0 && cgroups) {
            const CgroupStats stats = m_stats_cache.read(m_supervisor->cgroups().locate(r.name), r.name, r.exec_pid);
            if (stats.memory_bytes) u.memory_bytes = static_cast<int64_t>(*stats.memory_bytes);
            if (stats.cpu_usec) u.cpu_usec = static_cast<int64_t>(*stats.cpu_usec);
            if (stats.tasks) u.tasks = static_cast<int64_t>(*stats.tasks);
        }
    };
    for (size_t i = 0; i < records.size(); ++i) fill(i);
    std::vector<std::string> running;
    for (const UnitRecord& r : records)
        if (r.exec_pid > 0) running.push_back(r.name);
    m_stats_cache.retain(running);  // list_units() is by name: sorted

    const StateStore::DeploymentStats stats = m_store->deployment_stats();
    snapshot.deployments_by_result = stats.by_result;
    for (const int64_t usec : stats.durations_usec) snapshot.deploy_durations_seconds.push_back(static_cast<double>(usec) / 1e6);
    snapshot.commit = m_store->applied_commit();
    if (!snapshot.commit.empty()) snapshot.subject = m_store->subject_of(snapshot.commit);
    snapshot.branch = m_options.paths.branch;
    snapshot.start_time_usec = m_started_usec;
    return snapshot;
}

// Ready: active, and healthy when it has a check. Starting, draining, unhealthy or not active: 503.
ReadyAnswer Daemon::ready_of(const std::string& name) {
    std::string unit = name;
    if (!unit.ends_with(".service")) unit += ".service";
    const std::optional<UnitRecord> r = m_store->get_unit(unit);
    if (!r) return {404, "", ""};
    const std::string health = r->exec_pid > 0 ? health_of(unit) : "none";
    const bool up = r->state == "active" || r->state == "reloading";
    bool checked = false;
    {
        std::lock_guard lock(m_health_mutex);
        checked = m_health_specs.count(unit) > 0;
    }
    const bool ready = up && (health == "healthy" || (!checked && health == "none"));
    return {ready ? 200 : 503, r->state, health};
}

}  // namespace gitvisor::daemon
