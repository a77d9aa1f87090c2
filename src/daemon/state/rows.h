#pragma once
// The mapping between the state records (state_store.h) and the rows of their tables (schema.cpp): for
// each record, the SELECT that reads it and the function that reads one row of that SELECT, plus the
// rows that belong to a deployment.

#include <vector>

#include "daemon/state/sqlite_db.h"
#include "daemon/state/state_store.h"

namespace gitvisor::daemon {

inline constexpr const char* kSelectUnit =
    "SELECT name, spec_hash, commit_id, unit_json, unit_text, held_stopped, state, sub_state, result, "
    "exec_pid, main_pid, ns_pid, cgroup, invocation, since_usec, restarts FROM units";

inline constexpr const char* kSelectRun =
    "SELECT id, unit, invocation, exec_pid, main_pid, started_usec, ended_usec, exit_code, exit_signal, "
    "result, commit_id FROM runs";

inline constexpr const char* kSelectDeployment =
    "SELECT id, commit_id, subject, trigger_kind, uid, result, started_usec, finished_usec, author, note FROM "
    "deployments";

inline constexpr const char* kSelectEvent = "SELECT id, time_usec, uid, kind, unit, message FROM events";

UnitRecord read_unit(const SqliteStatement& stmt);
RunRecord read_run(const SqliteStatement& stmt);
DeploymentRecord read_deployment(const SqliteStatement& stmt);  // without errors and actions
EventRecord read_event(const SqliteStatement& stmt);

// Every row of a statement; on an error, the rows read so far (the read methods have no error channel).
template <class Record, class Read>
std::vector<Record> read_all(SqliteStatement& stmt, Read read) {
    std::vector<Record> records;
    for (auto row = stmt.step(); row && *row; row = stmt.step()) records.push_back(read(stmt));
    return records;
}

// Inserts the errors and actions of deployment `id`, numbered in the order given.
Status insert_deployment_details(SqliteDb& db, int64_t id, const DeploymentRecord& deployment);
// Fills in the errors and actions of `deployment` (by its id).
void load_deployment_details(SqliteDb& db, DeploymentRecord& deployment);

}  // namespace gitvisor::daemon
