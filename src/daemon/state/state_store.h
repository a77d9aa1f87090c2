#pragma once
// gitvisord's state in SQLite (DESIGN §6): <state-dir>/state.db, WAL, schema version in user_version with
// migrations. Every write is one transaction; a kill -9 at any moment loses no committed row.
// Thread-safe: one connection guarded by a mutex (writes are small; reads are few).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace gitvisor::daemon {

// What gitvisord knows of one unit of the applied desired state.
struct UnitRecord {
    std::string name;
    std::string spec_hash;      // of the applied commit's version
    std::string commit;         // the commit that deployed this version
    std::string unit_json;      // the normalised unit (unitfile::unit_to_json), for `cat` and restarts
    std::string unit_text;      // the unit file text as committed (main file, then drop-ins), for `cat`
    bool held_stopped = false;  // `gitvisor stop X`: stays stopped until start or a deploy that changes X
    std::string state = "inactive";
    std::string sub_state = "dead";
    std::string result = "success";
    int64_t exec_pid = 0;  // host pid of the unit's gitvisor-exec (0: none)
    int64_t main_pid = 0;  // host pid of the main process
    int64_t ns_pid = 0;    // the main process's pid inside its namespace
    std::string cgroup;    // display path
    std::string invocation;
    int64_t since_usec = 0;  // realtime µs of the last state change
    int64_t restarts = 0;
};

struct RunRecord {
    int64_t id = 0;
    std::string unit;
    std::string invocation;
    int64_t exec_pid = 0;
    int64_t main_pid = 0;
    int64_t started_usec = 0;
    std::optional<int64_t> ended_usec;
    std::optional<int64_t> exit_code;
    std::optional<int64_t> exit_signal;
    std::string result;  // "", success, exit-code, signal, timeout, start-limit-hit, ...
    std::string commit;  // the commit that deployed the unit's version this run ran
};

struct DeploymentError {
    std::string file;
    int64_t line = 0;
    std::string message;
};

struct DeploymentAction {
    std::string unit;
    std::string action;  // start, stop, restart
    std::string reason;  // added, removed, changed, dependency, held
    std::string result;  // "", done, failed
};

struct DeploymentRecord {
    int64_t id = 0;
    std::string commit;
    std::string subject;
    std::string author;   // "Name <email>" of the commit
    std::string note;     // e.g. "history rewritten: 1a2b3c4 is not an ancestor", "roll back to 1a2b3c4"
    std::string trigger;  // commit, sync, rollback, cli, auto-rollback, startup
    int64_t uid = -1;     // the caller, for cli-triggered deploys
    std::string result;   // in-progress, applied, rejected, failed, superseded, interrupted
    std::vector<DeploymentError> errors;
    std::vector<DeploymentAction> actions;
    int64_t started_usec = 0;
    std::optional<int64_t> finished_usec;
};

struct EventRecord {
    int64_t id = 0;
    int64_t time_usec = 0;
    int64_t uid = -1;     // the caller's uid for control requests, -1 for the daemon itself
    std::string kind;     // request, deploy, unit
    std::string unit;     // may be empty
    std::string message;  // e.g. "stop web.service: ok", "started pid 1234"
};

// A `limit` of 0 or less means no limit. The read methods return what they could read: an empty result
// when the database cannot be read.
class StateStore {
public:
    // Opens or creates the database, enables WAL and foreign keys, and migrates to the current schema.
    // An unreadable or corrupt file is an error naming the path and SQLite's message; never overwritten.
    static Result<std::unique_ptr<StateStore>> open(const std::string& path);
    virtual ~StateStore() = default;

    static constexpr int kSchemaVersion = 3;
    virtual int schema_version() = 0;

    // Units of the applied desired state.
    virtual Result<bool> put_unit(const UnitRecord& unit) = 0;      // insert or replace by name
    virtual Result<bool> delete_unit(const std::string& name) = 0;  // ok(false): there was no such unit
    virtual std::optional<UnitRecord> get_unit(const std::string& name) = 0;
    virtual std::vector<UnitRecord> list_units() = 0;  // by name

    // The applied commit (the last deploy that was applied), or "" when none.
    virtual std::string applied_commit() = 0;
    virtual Result<bool> set_applied_commit(const std::string& commit) = 0;
    // Other settings kept across restarts (e.g. "pinned_commit"); "" when unset.
    virtual std::string meta(const std::string& key) = 0;
    virtual Result<bool> set_meta(const std::string& key, const std::string& value) = 0;

    virtual Result<int64_t> start_run(const RunRecord& run) = 0;  // returns the id
    virtual Result<bool> finish_run(int64_t id, int64_t ended_usec, std::optional<int64_t> exit_code,
                                    std::optional<int64_t> exit_signal, const std::string& result) = 0;
    virtual std::vector<RunRecord> runs_of(const std::string& unit, int limit) = 0;  // newest first

    virtual Result<int64_t> begin_deployment(const DeploymentRecord& deployment) = 0;  // returns the id
    // Replaces result, errors, actions and finished time of deployment `id`.
    virtual Result<bool> update_deployment(const DeploymentRecord& deployment) = 0;
    // Newest first, with errors and actions.
    virtual std::vector<DeploymentRecord> deployments(int limit) = 0;
    // For /metrics: how many deployments ended with each result, and how long every finished one took (µs).
    struct DeploymentStats {
        std::map<std::string, int64_t> by_result;
        std::vector<int64_t> durations_usec;
    };
    virtual DeploymentStats deployment_stats() = 0;
    // The newest deployment that was applied, of a commit other than `commit` (for automatic rollback).
    virtual std::optional<DeploymentRecord> last_applied_other_than(const std::string& commit) = 0;
    // The subject recorded with the newest deployment of `commit` ("" when none).
    virtual std::string subject_of(const std::string& commit) = 0;
    // Deployments left `in-progress` by a daemon that died: marked `interrupted`; returns them.
    virtual std::vector<DeploymentRecord> interrupt_unfinished() = 0;

    virtual Result<int64_t> add_event(const EventRecord& event) = 0;
    virtual std::vector<EventRecord> events_since(int64_t after_id, int limit) = 0;  // oldest first
    // The last `limit` events (by id; ids are never reused), oldest first.
    virtual std::vector<EventRecord> latest_events(int limit) = 0;
};

}  // namespace gitvisor::daemon
