#pragma once
// gitvisord's core, independent of how it is started (Poco ServerApplication in main.cpp, tests):
// the state store, the supervisor of every unit, the repository watcher, the deploy queue and the
// handlers of control requests.
//
// Deploys are serialised through one queue (DESIGN §3). A deploy of commit C:
//  1. reads C's tree (libgit2) and loads every unit; any error rejects C, recorded with every
//     file:line: message, and nothing running changes;
//  2. plans against the applied state (daemon/plan), records the deployment and its actions;
//  3. stops, wave by wave, then starts, wave by wave, waiting for each wave to finish starting;
//  4. records the result and the applied commit.
// At start-up, units whose gitvisor-exec still runs are re-adopted first; then the branch tip is deployed,
// which after a daemon restart usually changes nothing.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "daemon/control/response_stream.h"
#include "daemon/health/health_monitor.h"
#include "daemon/http/http_endpoint.h"
#include "daemon/http/metrics.h"
#include "daemon/core/paths.h"
#include "daemon/plan/plan.h"
#include "daemon/repo/watcher.h"
#include "daemon/state/state_store.h"
#include "daemon/supervise/supervisor.h"
#include "repo/commit_tree.h"
#include "unitfile/unit_set.h"

namespace gitvisor::daemon {

struct DaemonOptions {
    Paths paths;
    std::string hostname;     // for ConditionHost= and %H; empty = the host's
    std::string exec_binary;  // gitvisor-exec
    std::string cgroup_parent = "gitvisor";  // the cgroup folder for units, under gitvisord's own cgroup
    bool stop_units_on_exit = false;
    // A container's entrypoint (--container, or PID 1): units stop in order when gitvisord exits, within
    // shutdown_timeout_usec, and orphans are reaped.
    bool container = false;
    int64_t shutdown_timeout_usec = 30'000'000;
    LogDefaults log;  // rotation of units' logs, unless their [X-Gitvisor] section says otherwise
    // Remote mode (DESIGN §3): the branch of `remote` is fetched into <state-dir>/mirror every
    // `fetch_interval_sec` and on `gitvisor sync`, and deployed from there; paths.repo is then the mirror.
    std::string remote;
    int64_t fetch_interval_sec = 30;
    std::string ssh_key_file;
    std::string token_file;
    // The HTTP endpoint (DESIGN §8): off when empty; POST /v1/sync needs the bearer token in the file.
    std::string http_address;
    std::string http_token_file;
};

// The state.db meta key of a remote-mode rollback's pin (DESIGN §3): the commit deployed instead of the tip.
inline constexpr const char* kPinnedCommitKey = "pinned_commit";
// Set with the pin of an automatic rollback in remote mode: the failed commit. The pin lifts itself once the
// remote's tip is another commit.
inline constexpr const char* kAutoPinKey = "auto_pin_from";
// Commits whose deploy failed and was rolled back automatically: {commit: {deployment, reason, since}}.
inline constexpr const char* kQuarantineKey = "quarantine";
// Prefix of the meta key that keeps, per unit, the Condition*=/Assert*= that stopped its last start.
inline constexpr const char* kUnmetConditionKey = "unmet_condition:";

// A unit's Timeout*Sec= in µs (`fallback` when unset or without a unit); -1 for infinity.
int64_t timeout_usec(const unitfile::Unit* unit, const char* key, uint64_t fallback);

// A unit's dependencies among the deployed units (propagation.cpp).
struct UnitDependencies {
    std::vector<std::string> requires_, wants, binds_to, part_of, requisite, conflicts, after, before;
};

// Who sent a control request (SO_PEERCRED).
struct Caller {
    int64_t uid = -1;
    int64_t gid = -1;
    int64_t pid = 0;
    bool may_change = false;  // root or member of the gitvisor group
};

class Daemon {
public:
    explicit Daemon(DaemonOptions options);
    ~Daemon();

    // Opens the state, detects cgroups, re-adopts running units, starts the watcher and the deploy queue,
    // and queues the start-up deploy. Errors are fatal for start-up only (bad state file, missing repo).
    Result<bool> start();
    // Ends the queue and the watcher; units keep running unless stop_units_on_exit.
    void shutdown();

    // One control request (a JSON object) to one response object (DESIGN §7 fields).
    Poco::JSON::Object::Ptr handle(const Poco::JSON::Object::Ptr& request, const Caller& caller);
    // `logs` and `events`, answered line by line on `stream` (streams.cpp); false for other requests.
    bool handle_stream(const Poco::JSON::Object::Ptr& request, const Caller& caller, ResponseStream& stream);

    // Queues a deploy of the branch tip (or of `commit`) and, when `wait`, returns its deployment id.
    std::optional<int64_t> request_deploy(const std::string& trigger, int64_t uid, bool wait,
                                          const std::string& note = "");

    std::string describe_isolation() const;  // for the start-up log and `status`
    // gitvisord's exit status after shutdown(): 0, or 1 when a unit did not stop cleanly in time, or a
    // critical unit's (3, or its FailureActionExitStatus=).
    int exit_status();

    // For GET /metrics and GET /v1/units/NAME/ready (http.cpp).
    MetricsSnapshot metrics_snapshot();
    ReadyAnswer ready_of(const std::string& unit);
    uint16_t http_port() const { return m_http ? m_http->port() : 0; }

private:
    struct DeployRequest {
        std::string trigger;
        int64_t uid = -1;
        std::string note;  // recorded with the deployment
    };

    void deploy_loop();
    int64_t deploy_tip(const DeployRequest& request);
    int64_t deploy_commit(const std::string& commit, const DeployRequest& request);
    void record_superseded(const std::string& tip, const DeployRequest& request);
    void on_unit_change(const std::string& unit, const ExecStatus& status, bool exited);
    // `marker`: the line written into the unit's log where this start begins.
    Result<bool> start_unit(const std::string& name, const std::string& reason, const std::string& marker);
    // A start that Condition*= skipped (`result` "condition") or Assert*= failed ("assert"): recorded as
    // inactive with that result, what did not hold kept for `why`, and an event.
    void record_unmet_condition(UnitRecord record, const std::string& result, const std::string& unmet);
    // `drain`: a unit with DrainPorts= first waits for its connections to end (not for an unhealthy unit,
    // nor when gitvisord exits).
    // `restarting`: started again right after (a restart, or a deploy that changed it).
    Result<bool> stop_unit(const std::string& name, bool drain = true, bool restarting = false);
    void drain(const std::string& name);
    void adopt_running_units();

    // Container mode and ordered stops (container.cpp).
    std::vector<std::vector<std::string>> stop_waves_of(const std::vector<std::string>& units);
    int stop_all_units(int64_t timeout_usec);
    int64_t timeout_usec_of(const std::string& unit, const char* key, uint64_t fallback);
    void on_critical_failure(const std::string& unit, int status);
    void reap_orphans_loop();
    std::thread m_reaper;
    std::string m_critical_failure;           // under m_health_mutex
    int m_exit_status = 0;                    // under m_health_mutex
    std::map<std::string, int> m_critical_units;  // unit -> exit status when it fails for good; m_health_mutex

    // Health (health.cpp, DESIGN §4): checks of active units, restarts of unhealthy ones, the deploy gate.
    void start_health();
    void stop_health();
    CheckOutcome probe(const std::string& unit, const HealthSpec& spec);
    void on_health_change(const std::string& unit, const HealthStatus& status, Health before);
    void follow_up_loop();
    void start_on_failure_units(const std::string& unit, const std::string& why);  // m_deploy_mutex held
    // The unit's state changed: checks begin when it becomes active under a new invocation, end when it
    // stops being active. `exited`: its gitvisor-exec is gone, and `status` is its last word.
    void follow_health(const std::string& unit, const ExecStatus& status, bool exited);
    void set_health_spec(const std::string& unit, const unitfile::Unit* loaded);
    // Waits until every unit of `started` is up (active, and healthy when it has a check) and has stayed so
    // for the repository's MinReadySec=, or the deploy's Timeout= passed: the units that did not make it, why.
    std::map<std::string, std::string> gate_deploy(const std::vector<std::string>& started,
                                                   const unitfile::DeploySettings& settings);
    std::string health_of(const std::string& unit, std::string* detail = nullptr);
    // Automatic rollback and quarantine (auto_rollback.cpp).
    std::string auto_rollback(const DeploymentRecord& failed);
    Poco::JSON::Object::Ptr quarantine_json();
    bool is_quarantined(const std::string& commit);
    void quarantine(const std::string& commit, int64_t deployment, const std::string& reason);
    bool lift_quarantine(const std::string& commit);

    void record_event(const EventRecord& event);  // stored, and passed on to `events -f`
    void stream_logs(const Poco::JSON::Object::Ptr& request, const Caller& caller, ResponseStream& stream);
    void stream_events(const Poco::JSON::Object::Ptr& request, const Caller& caller, ResponseStream& stream);
    // The last `n` lines of the unit's log, for `status`.
    Poco::JSON::Array::Ptr log_tail(const std::string& unit, size_t n);

    Poco::JSON::Object::Ptr unit_json(const UnitRecord& record);
    Poco::JSON::Object::Ptr deployment_json(const DeploymentRecord& deployment);
    Poco::JSON::Object::Ptr handle_change(const std::string& cmd, const Poco::JSON::Object::Ptr& request,
                                          const Caller& caller);
    // Runtime propagation of start, stop and restart along dependencies (propagation.cpp); with
    // m_deploy_mutex held. `started`/`stopped`: the other units it started or stopped.
    std::map<std::string, UnitDependencies> dependency_graph();
    Result<bool> start_with_dependencies(const std::string& unit, const std::string& reason, const std::string& marker,
                                         std::vector<std::string>& started);
    Result<bool> stop_with_dependents(const std::string& unit, std::vector<std::string>& stopped);
    std::vector<std::string> restart_followers(const std::string& unit);
    void set_held(const std::string& unit, bool held);
    Poco::JSON::Object::Ptr handle_tree(const Poco::JSON::Object::Ptr& request);

    DaemonOptions m_options;
    std::unique_ptr<StateStore> m_store;
    std::unique_ptr<Supervisor> m_supervisor;
    RepoWatcher m_watcher;

    std::mutex m_queue_mutex;
    std::condition_variable m_queue_changed;
    std::deque<DeployRequest> m_queue;
    int64_t m_last_deployment = 0;
    int64_t m_requests_done = 0;
    int64_t m_requests_made = 0;
    bool m_quit = false;
    std::thread m_deploy_thread;
    // How a deploy of a given commit is to be recorded (a rollback's commit: trigger "rollback", its caller
    // and target), whoever asked for it first: the watcher sees the rollback's commit as well.
    std::map<std::string, DeployRequest> m_labels;

    // Remote mode: the fetch thread, woken early by sync and by shutdown.
    std::thread m_fetch_thread;
    std::mutex m_fetch_run_mutex;  // one fetch at a time (libgit2 has no network timeout: one may hang)
    std::mutex m_fetch_mutex;      // guards the fields below, never held during a fetch
    std::condition_variable m_fetch_wake;
    bool m_fetch_quit = false;
    bool m_fetch_requested = false;  // a webhook asked for a fetch now
    int64_t m_fetch_failures = 0;  // consecutive, for back-off
    std::string m_fetch_error;     // of the last fetch, "" when it worked
    int64_t m_last_fetch_usec = 0;
    std::set<std::string> m_needs_start;  // units to start again at the next deploy (their exec vanished)

    Result<bool> start_http();
    std::unique_ptr<HttpEndpoint> m_http;
    CgroupStatsCache m_stats_cache;  // /metrics: every running unit's statistics files, kept open
    int64_t m_started_usec = 0;

    // Shared: the supervisor's thread may still report a unit while shutdown takes the monitor away.
    std::shared_ptr<HealthMonitor> m_health;
    std::shared_ptr<HealthMonitor> health_monitor();  // under m_health_mutex; null once stopped
    std::atomic<bool> m_shutting_down{false};
    std::mutex m_health_mutex;                             // guards the fields below
    std::map<std::string, HealthSpec> m_health_specs;      // of the units that run, by the commit that runs
    struct DrainSpec {
        std::vector<uint16_t> ports;
        int64_t timeout_usec = 30'000'000;
    };
    std::map<std::string, DrainSpec> m_drain_specs;        // likewise, for units with DrainPorts=
    std::map<std::string, std::string> m_health_invocation;  // the invocation whose checks run
    // Serialises follow_health: the supervisor's thread and a start report the same unit, in either order.
    std::mutex m_follow_health_mutex;
    // Work that follows a unit's change, done between deploys and requests: restarting an unhealthy unit,
    // starting a failed unit's OnFailure= units.
    struct FollowUp {
        enum class Kind { UnhealthyRestart, OnFailure } kind;
        std::string unit;
        std::string why;
    };
    std::deque<FollowUp> m_follow_ups;
    std::set<std::string> m_unhealthy_stops;  // stopped for being unhealthy: their run's result says so
    std::condition_variable m_health_wake;
    bool m_health_quit = false;
    std::thread m_health_thread;

    std::mutex m_events_mutex;
    std::condition_variable m_events_changed;  // a new event was stored
    int64_t m_last_event_id = 0;

    struct CurrentRun {
        int64_t id = 0;
        std::string invocation;
    };
    std::mutex m_runs_mutex;
    std::map<std::string, CurrentRun> m_runs;

    // The unit set of the last commit loaded (deploys and start requests read units from it).
    std::string m_loaded_commit;
    std::string m_loaded_subject;
    std::string m_loaded_author;
    std::shared_ptr<const unitfile::UnitSet> m_loaded_set;
    std::vector<unitfile::TreeFile> m_loaded_files;  // of the loaded commit, for loaded_text()
    unitfile::SpecifierContext m_loaded_context;     // the host values it was loaded with
    std::string loaded_text(const std::string& name);
    // What the last commit loaded read and parsed: the next load reads and parses only what changed.
    repo::BlobCache m_blob_cache;
    unitfile::UnitCache m_unit_cache;
    Result<std::shared_ptr<const unitfile::UnitSet>> load_commit(const std::string& commit);
    unitfile::SpecifierContext host_context() const;
    // The inputs of make_plan: a loaded commit's units meant for this host, and what is applied.
    std::map<std::string, DesiredUnit> desired_units(const unitfile::UnitSet& set) const;
    std::map<std::string, AppliedUnit> applied_units();
    static std::vector<DeploymentError> rejection_errors(const Result<std::shared_ptr<const unitfile::UnitSet>>& set);
    Poco::JSON::Object::Ptr handle_diff(const Poco::JSON::Object::Ptr& request);
    // Remote mode (remote.cpp).
    bool remote_mode() const { return !m_options.remote.empty(); }
    void fetch_loop();
    // Fetches now; on a new tip, queues its deploy. Error text when the remote cannot be reached.
    // `deploy`: a new tip is queued for deploy (false for `sync`, which queues its own and waits for it).
    Result<std::string> fetch_now(bool deploy = true);
    void describe_remote(Poco::JSON::Object::Ptr& out);
    // The commit a deploy aims at: the pinned one (remote-mode rollback), else the branch tip.
    Result<std::string> deploy_target();
    Poco::JSON::Object::Ptr handle_sync(const Poco::JSON::Object::Ptr& request, const Caller& caller);
    Poco::JSON::Object::Ptr handle_rollback(const Poco::JSON::Object::Ptr& request, const Caller& caller);
    Poco::JSON::Object::Ptr handle_pin(const Poco::JSON::Object::Ptr& request, const Caller& caller);
    Poco::JSON::Object::Ptr handle_why(const Poco::JSON::Object::Ptr& request, const Caller& caller);
    Poco::JSON::Object::Ptr handle_reset_failed(const Poco::JSON::Object::Ptr& request, const Caller& caller);
    Poco::JSON::Object::Ptr handle_signal(const std::string& cmd, const Poco::JSON::Object::Ptr& request,
                                          const Caller& caller);
    // The deploy of `commit` that the queue ran last, as JSON (null when there is none).
    Poco::JSON::Object::Ptr deployment_of(const std::string& commit);
    const unitfile::Unit* find_loaded(const std::string& name);
    std::mutex m_deploy_mutex;  // held while a deploy or a start/stop request changes units
    // Held around every read-modify-write of a unit's row: the supervisor's event thread records states while
    // a deploy or a request sets the commit, spec hash or hold, and neither may write back a stale copy of
    // the other's fields (or bring back a row a deploy just deleted). Never held while waiting for a unit.
    std::mutex m_records_mutex;
};

}  // namespace gitvisor::daemon
