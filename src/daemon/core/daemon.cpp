// gitvisord's core: lifecycle, re-adoption at start-up, and recording what the supervisor reports.

#include "daemon/core/daemon.h"

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/time_format.h"
#include "repo/commit_tree.h"

namespace gitvisor::daemon {
namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool is_live_state(const std::string& state) { return state != "inactive" && state != "failed"; }

}  // namespace

Daemon::Daemon(DaemonOptions options) : m_options(std::move(options)) {}

Daemon::~Daemon() { shutdown(); }

std::string Daemon::describe_isolation() const {
    if (!m_supervisor) return "not started";
    if (!m_supervisor->isolated())
        return "not running as root: units run without PID namespaces and cgroups";
    return "PID namespaces, " + m_supervisor->cgroups().describe();
}

Result<bool> Daemon::start() {
    m_started_usec = realtime_usec();
    const Paths& paths = m_options.paths;
    for (const std::string& dir : {paths.state_dir, paths.run_dir + "/units", paths.state_dir + "/logs"}) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) return Result<bool>::fail("cannot create '" + dir + "': " + ec.message());
    }
    auto store = StateStore::open(paths.database());
    if (!store) return Result<bool>::fail(store.error());
    m_store = std::move(*store);
    for (const DeploymentRecord& d : m_store->interrupt_unfinished())
        std::cerr << "gitvisord: deployment " << d.id << " of " << d.commit.substr(0, 7)
                  << " was interrupted by a daemon exit; the start-up deploy finishes it\n";

    // Remote mode deploys from the mirror, which the first fetch makes; the watcher is for local mode.
    std::optional<std::string> git_dir;
    if (!remote_mode()) {
        auto dir = repo::git_dir(paths.repo);
        if (!dir) return Result<bool>::fail(dir.error());
        git_dir = *dir;
    }

    m_supervisor = std::make_unique<Supervisor>(
        paths, geteuid() == 0 ? CgroupManager::detect("/sys/fs/cgroup", "/proc/self/cgroup", m_options.cgroup_parent)
                        : CgroupManager{}, m_options.exec_binary,
        [this](const std::string& unit, const ExecStatus& status, bool exited) { on_unit_change(unit, status, exited); });
    std::cerr << "gitvisord: " << describe_isolation() << "\n";

    start_health();
    if (m_options.container) m_reaper = std::thread([this] { reap_orphans_loop(); });
    adopt_running_units();
    if (Result<bool> http = start_http(); !http) return http;
    m_deploy_thread = std::thread([this] { deploy_loop(); });
    if (remote_mode()) {
        // What the mirror has is deployed at once (a reboot with the remote down still starts the units);
        // the fetch thread's first fetch follows.
        request_deploy("startup", -1, false);
        m_fetch_thread = std::thread([this] { fetch_loop(); });
        std::cerr << "gitvisord: fetching " << m_options.remote << " (branch " << paths.branch << ") every "
                  << m_options.fetch_interval_sec << " s into " << paths.repo << "\n";
        if (!m_options.token_file.empty() && m_options.remote.rfind("http://", 0) == 0)
            std::cerr << "gitvisord: warning: the token of " << m_options.token_file << " goes to "
                      << m_options.remote << " unencrypted: anyone on the way can read it (use https://)\n";
        return Result<bool>::ok(true);
    }
    if (Result<bool> w = m_watcher.start(*git_dir, m_options.paths.branch, [this] { request_deploy("commit", -1, false); });
        !w)
        return w;
    request_deploy("startup", -1, false);
    return Result<bool>::ok(true);
}

void Daemon::shutdown() {
    m_shutting_down = true;
    if (auto health = health_monitor()) health->interrupt();  // a deploy waiting for health ends its wait
    if (m_http) m_http->stop();
    m_watcher.stop();
    {
        std::lock_guard lock(m_fetch_mutex);
        m_fetch_quit = true;
    }
    m_fetch_wake.notify_all();
    if (m_fetch_thread.joinable()) m_fetch_thread.join();
    // A deploy waiting for a unit is cut short; the next gitvisord records it as interrupted and redoes it.
    if (m_supervisor) m_supervisor->interrupt(true);
    {
        std::lock_guard lock(m_queue_mutex);
        m_quit = true;
    }
    m_queue_changed.notify_all();
    if (m_deploy_thread.joinable()) m_deploy_thread.join();
    stop_health();
    if (m_supervisor && (m_options.stop_units_on_exit || m_options.container)) {
        m_supervisor->interrupt(false);
        const int stopped = stop_all_units(m_options.shutdown_timeout_usec);
        // Nothing runs any more: the units' parent cgroup folders go too (one still in use stays).
        if (m_supervisor->running_units().empty()) (void)m_supervisor->cgroups().remove_parents();
        std::lock_guard lock(m_health_mutex);
        if (m_exit_status == 0) m_exit_status = stopped;
    }
    if (m_reaper.joinable()) {
        pthread_kill(m_reaper.native_handle(), SIGCHLD);  // ends its wait
        m_reaper.join();
    }
    m_supervisor.reset();
}

// Units whose gitvisor-exec outlived the previous gitvisord are taken over as they are; units whose
// gitvisor-exec is gone are recorded with their last known end, or marked to start again when nothing tells
// how they ended (the run folder is cleared by a reboot).
void Daemon::adopt_running_units() {
    for (UnitRecord record : m_store->list_units()) {
        const Paths& paths = m_options.paths;
        if (record.exec_pid > 0 && m_supervisor->adopt(record.name, static_cast<pid_t>(record.exec_pid))) {
            std::cerr << "gitvisord: re-adopted " << record.name << " (gitvisor-exec pid " << record.exec_pid << ")\n";
            // Its health check, as the commit that runs it says.
            if (load_commit(record.commit)) set_health_spec(record.name, find_loaded(record.name));
            if (auto s = m_supervisor->status(record.name)) on_unit_change(record.name, *s, false);
            continue;
        }
        if (!is_live_state(record.state)) continue;
        const auto status = parse_exec_status(read_text(paths.status_file(record.name)));
        if (status && !is_live_state(status->state)) {
            on_unit_change(record.name, *status, true);
        } else {
            record.state = "inactive";
            record.sub_state = "dead";
            record.result = "success";
            record.exec_pid = record.main_pid = record.ns_pid = 0;
            record.since_usec = realtime_usec();
            (void)m_store->put_unit(record);
            m_needs_start.insert(record.name);
        }
    }
}

void Daemon::on_unit_change(const std::string& unit, const ExecStatus& status, bool exited) {
    follow_health(unit, status, exited);
    bool unhealthy = false;
    if (exited) {
        std::lock_guard lock(m_health_mutex);
        unhealthy = m_unhealthy_stops.erase(unit) > 0;
    }
    const std::string result = unhealthy ? "unhealthy" : status.result;
    std::lock_guard lock(m_runs_mutex);
    auto& run = m_runs[unit];
    const bool new_invocation = !status.invocation.empty() && status.invocation != run.invocation;
    // gitvisor-exec gave the unit a new invocation itself: Restart= at work.
    const bool restarted = new_invocation && run.id > 0 && !exited;
    if (new_invocation && run.id > 0)
        (void)m_store->finish_run(run.id, realtime_usec(), std::nullopt, std::nullopt, "restarted");
    if (new_invocation && !exited) {
        RunRecord r;
        r.unit = unit;
        r.invocation = status.invocation;
        r.exec_pid = m_supervisor ? m_supervisor->exec_pid(unit) : 0;
        r.started_usec = realtime_usec();
        if (std::optional<UnitRecord> u = m_store->get_unit(unit)) r.commit = u->commit;
        const Result<int64_t> id = m_store->start_run(r);
        run.id = id ? *id : 0;
        run.invocation = status.invocation;
    }
    if (exited && run.id > 0) {
        (void)m_store->finish_run(run.id, realtime_usec(), status.exit_code, status.exit_signal, result);
        run = {};
    }
    std::lock_guard records_lock(m_records_mutex);
    std::optional<UnitRecord> found = m_store->get_unit(unit);
    if (!found) return;  // removed from the desired state while it stopped
    UnitRecord record = *found;
    const bool state_changed = record.state != status.state || record.sub_state != status.sub_state;
    record.state = status.state;
    record.sub_state = status.sub_state;
    record.result = result;
    record.invocation = status.invocation;
    record.restarts = status.restarts;
    record.since_usec = status.since_usec > 0 ? status.since_usec : realtime_usec();
    record.exec_pid = exited || !m_supervisor ? 0 : m_supervisor->exec_pid(unit);
    record.ns_pid = exited ? 0 : status.main_pid;
    record.main_pid = exited || !m_supervisor ? 0 : m_supervisor->main_host_pid(unit);
    if (!exited && m_supervisor) record.cgroup = m_supervisor->cgroups().locate(unit).display_path();
    (void)m_store->put_unit(record);
    if (state_changed || exited || restarted) {
        EventRecord e;
        e.time_usec = realtime_usec();
        e.kind = "unit";
        e.unit = unit;
        e.message = restarted ? "restarted (restart " + std::to_string(status.restarts) + ", invocation " +
                                    status.invocation + "): "
                              : exited ? "exited: " : "";
        e.message += status.state + " (" + status.sub_state + ")";
        if (status.state == "failed" || (exited && result != "success")) e.message += " result " + result;
        if (record.main_pid > 0) e.message += " main pid " + std::to_string(record.main_pid);
        // How the main process ended, once it has.
        const bool ended = exited || status.state == "failed" || status.sub_state == "auto-restart" ||
                           status.sub_state == "exited" || status.sub_state == "dead";
        if (ended && status.exit_signal && *status.exit_signal > 0) {
            e.message += " signal " + std::to_string(*status.exit_signal);
        } else if (ended && status.exit_code) {
            e.message += " exit code " + std::to_string(*status.exit_code);
        }
        if (!status.error.empty()) e.message += " failed at step " + status.failed_step + ": " + status.error;
        record_event(e);
    }
    // Entering `failed`: its OnFailure= units start (between deploys and requests, not on this thread); a
    // critical unit ends gitvisord.
    if (state_changed && status.state == "failed") {
        std::optional<int> critical;
        {
            std::lock_guard health_lock(m_health_mutex);
            m_follow_ups.push_back({FollowUp::Kind::OnFailure, unit, "result " + result});
            m_health_wake.notify_all();
            if (const auto it = m_critical_units.find(unit); it != m_critical_units.end()) critical = it->second;
        }
        if (critical && !m_shutting_down) on_critical_failure(unit, *critical);
    }
}

}  // namespace gitvisor::daemon
