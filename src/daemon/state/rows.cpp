#include "daemon/state/rows.h"

namespace gitvisor::daemon {
namespace {

// Reads the columns of the current row in order, so that a reader lists its fields once, in the order of
// its SELECT.
class Columns {
public:
    explicit Columns(const SqliteStatement& stmt) : m_stmt(stmt) {}
    int64_t integer() { return m_stmt.column_int(m_next++); }
    std::optional<int64_t> optional_integer() { return m_stmt.column_optional_int(m_next++); }
    std::string text() { return m_stmt.column_text(m_next++); }

private:
    const SqliteStatement& m_stmt;
    int m_next = 0;
};

}  // namespace

UnitRecord read_unit(const SqliteStatement& stmt) {
    Columns c(stmt);
    UnitRecord unit;
    unit.name = c.text();
    unit.spec_hash = c.text();
    unit.commit = c.text();
    unit.unit_json = c.text();
    unit.unit_text = c.text();
    unit.held_stopped = c.integer() != 0;
    unit.state = c.text();
    unit.sub_state = c.text();
    unit.result = c.text();
    unit.exec_pid = c.integer();
    unit.main_pid = c.integer();
    unit.ns_pid = c.integer();
    unit.cgroup = c.text();
    unit.invocation = c.text();
    unit.since_usec = c.integer();
    unit.restarts = c.integer();
    return unit;
}

RunRecord read_run(const SqliteStatement& stmt) {
    Columns c(stmt);
    RunRecord run;
    run.id = c.integer();
    run.unit = c.text();
    run.invocation = c.text();
    run.exec_pid = c.integer();
    run.main_pid = c.integer();
    run.started_usec = c.integer();
    run.ended_usec = c.optional_integer();
    run.exit_code = c.optional_integer();
    run.exit_signal = c.optional_integer();
    run.result = c.text();
    run.commit = c.text();
    return run;
}

DeploymentRecord read_deployment(const SqliteStatement& stmt) {
    Columns c(stmt);
    DeploymentRecord deployment;
    deployment.id = c.integer();
    deployment.commit = c.text();
    deployment.subject = c.text();
    deployment.trigger = c.text();
    deployment.uid = c.integer();
    deployment.result = c.text();
    deployment.started_usec = c.integer();
    deployment.finished_usec = c.optional_integer();
    deployment.author = c.text();
    deployment.note = c.text();
    return deployment;
}

EventRecord read_event(const SqliteStatement& stmt) {
    Columns c(stmt);
    EventRecord event;
    event.id = c.integer();
    event.time_usec = c.integer();
    event.uid = c.integer();
    event.kind = c.text();
    event.unit = c.text();
    event.message = c.text();
    return event;
}

Status insert_deployment_details(SqliteDb& db, int64_t id, const DeploymentRecord& deployment) {
    auto errors = SqliteStatement::prepare(
        db,
        "INSERT INTO deployment_errors (deployment_id, position, file, line, message) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!errors) return Status::fail(errors.error());
    for (size_t i = 0; i < deployment.errors.size(); ++i) {
        const DeploymentError& error = deployment.errors[i];
        errors->reset();
        errors->bind_all(id, static_cast<int64_t>(i), error.file, error.line, error.message);
        if (auto inserted = errors->run(); !inserted) return inserted;
    }
    auto actions = SqliteStatement::prepare(
        db,
        "INSERT INTO deployment_actions (deployment_id, position, unit, action, reason, result) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!actions) return Status::fail(actions.error());
    for (size_t i = 0; i < deployment.actions.size(); ++i) {
        const DeploymentAction& action = deployment.actions[i];
        actions->reset();
        actions->bind_all(id, static_cast<int64_t>(i), action.unit, action.action, action.reason,
                          action.result);
        if (auto inserted = actions->run(); !inserted) return inserted;
    }
    return ok_status();
}

void load_deployment_details(SqliteDb& db, DeploymentRecord& deployment) {
    auto errors = SqliteStatement::prepare(
        db, "SELECT file, line, message FROM deployment_errors WHERE deployment_id = ?1 ORDER BY position");
    if (errors) {
        errors->bind(1, deployment.id);
        deployment.errors = read_all<DeploymentError>(*errors, [](const SqliteStatement& stmt) {
            Columns c(stmt);
            DeploymentError error;
            error.file = c.text();
            error.line = c.integer();
            error.message = c.text();
            return error;
        });
    }
    auto actions = SqliteStatement::prepare(
        db,
        "SELECT unit, action, reason, result FROM deployment_actions WHERE deployment_id = ?1 "
        "ORDER BY position");
    if (actions) {
        actions->bind(1, deployment.id);
        deployment.actions = read_all<DeploymentAction>(*actions, [](const SqliteStatement& stmt) {
            Columns c(stmt);
            DeploymentAction action;
            action.unit = c.text();
            action.action = c.text();
            action.reason = c.text();
            action.result = c.text();
            return action;
        });
    }
}

}  // namespace gitvisor::daemon
