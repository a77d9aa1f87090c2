// StateStore on SQLite: one connection behind one mutex. Every write runs in write(), which makes it one
// transaction; every query is a constant prepared statement with its values bound.

#include "daemon/state/state_store.h"

#include <mutex>
#include <string_view>
#include <utility>

#include "daemon/state/rows.h"
#include "daemon/state/schema.h"
#include "daemon/state/sqlite_db.h"

namespace gitvisor::daemon {
namespace {

constexpr const char* kAppliedCommitKey = "applied_commit";

// SQLite takes a negative LIMIT as "no limit": so do we, for 0 and below.
int64_t sql_limit(int limit) { return limit > 0 ? limit : -1; }

// A kSelect* of rows.h followed by a constant clause: SQL text is only ever joined from constants.
Result<SqliteStatement> prepare_select(SqliteDb& db, const char* select, const char* clause) {
    return SqliteStatement::prepare(db, (std::string(select) + " " + clause).c_str());
}

class SqliteStateStore final : public StateStore {
public:
    explicit SqliteStateStore(SqliteDb db) : m_db(std::move(db)) {}

    int schema_version() override;
    Result<bool> put_unit(const UnitRecord& unit) override;
    Result<bool> delete_unit(const std::string& name) override;
    std::optional<UnitRecord> get_unit(const std::string& name) override;
    std::vector<UnitRecord> list_units() override;
    std::string applied_commit() override;
    Result<bool> set_applied_commit(const std::string& commit) override;
    std::string meta(const std::string& key) override;
    Result<bool> set_meta(const std::string& key, const std::string& value) override;
    Result<int64_t> start_run(const RunRecord& run) override;
    Result<bool> finish_run(int64_t id, int64_t ended_usec, std::optional<int64_t> exit_code,
                            std::optional<int64_t> exit_signal, const std::string& result) override;
    std::vector<RunRecord> runs_of(const std::string& unit, int limit) override;
    Result<int64_t> begin_deployment(const DeploymentRecord& deployment) override;
    Result<bool> update_deployment(const DeploymentRecord& deployment) override;
    std::vector<DeploymentRecord> deployments(int limit) override;
    std::vector<DeploymentRecord> interrupt_unfinished() override;
    DeploymentStats deployment_stats() override;
    std::string subject_of(const std::string& commit) override;
    std::optional<DeploymentRecord> last_applied_other_than(const std::string& commit) override;
    Result<int64_t> add_event(const EventRecord& event) override;
    std::vector<EventRecord> events_since(int64_t after_id, int limit) override;
    std::vector<EventRecord> latest_events(int limit) override;

private:
    // Runs `body` (returning Result<T>) in one write transaction. A failure of BEGIN, of the body or of
    // COMMIT rolls everything back and becomes "cannot <what>: <reason>". The caller holds m_mutex.
    template <class T, class Body>
    Result<T> write(const std::string& what, Body body);
    // One statement with its values, in its own transaction.
    Result<bool> write_one(const std::string& what, const char* sql, const auto&... values);

    std::mutex m_mutex;
    SqliteDb m_db;
};

template <class T, class Body>
Result<T> SqliteStateStore::write(const std::string& what, Body body) {
    auto fail = [&](const std::string& why) { return Result<T>::fail("cannot " + what + ": " + why); };
    auto transaction = SqliteTransaction::begin(m_db);
    if (!transaction) return fail(transaction.error());
    Result<T> result = body();
    if (!result) return fail(result.error());
    if (auto committed = transaction->commit(); !committed) return fail(committed.error());
    return result;
}

Result<bool> SqliteStateStore::write_one(const std::string& what, const char* sql, const auto&... values) {
    return write<bool>(what, [&]() -> Result<bool> {
        auto stmt = SqliteStatement::prepare(m_db, sql);
        if (!stmt) return Status::fail(stmt.error());
        stmt->bind_all(values...);
        return stmt->run();
    });
}

int SqliteStateStore::schema_version() {
    std::lock_guard lock(m_mutex);
    auto version = m_db.query_int("PRAGMA user_version");
    return version ? static_cast<int>(*version) : 0;
}

// ---- units ----

Result<bool> SqliteStateStore::put_unit(const UnitRecord& unit) {
    std::lock_guard lock(m_mutex);
    // An upsert rather than INSERT OR REPLACE: REPLACE deletes the old row first, which a later table
    // referring to units would feel.
    return write_one(
        "save unit '" + unit.name + "'",
        "INSERT INTO units (name, spec_hash, commit_id, unit_json, unit_text, held_stopped, state, "
        "sub_state, result, exec_pid, main_pid, ns_pid, cgroup, invocation, since_usec, restarts) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
        "ON CONFLICT (name) DO UPDATE SET spec_hash = excluded.spec_hash, "
        "commit_id = excluded.commit_id, unit_json = excluded.unit_json, "
        "unit_text = excluded.unit_text, held_stopped = excluded.held_stopped, "
        "state = excluded.state, sub_state = excluded.sub_state, result = excluded.result, "
        "exec_pid = excluded.exec_pid, main_pid = excluded.main_pid, ns_pid = excluded.ns_pid, "
        "cgroup = excluded.cgroup, invocation = excluded.invocation, "
        "since_usec = excluded.since_usec, restarts = excluded.restarts",
        unit.name, unit.spec_hash, unit.commit, unit.unit_json, unit.unit_text, int64_t{unit.held_stopped},
        unit.state, unit.sub_state, unit.result, unit.exec_pid, unit.main_pid, unit.ns_pid, unit.cgroup,
        unit.invocation, unit.since_usec, unit.restarts);
}

// Ok(false) when there was no such unit.
Result<bool> SqliteStateStore::delete_unit(const std::string& name) {
    std::lock_guard lock(m_mutex);
    return write<bool>("delete unit '" + name + "'", [&]() -> Result<bool> {
        auto stmt = SqliteStatement::prepare(m_db, "DELETE FROM units WHERE name = ?1");
        if (!stmt) return Status::fail(stmt.error());
        stmt->bind(1, name);
        if (auto deleted = stmt->run(); !deleted) return deleted;
        return Result<bool>::ok(m_db.changes() > 0);
    });
}

std::optional<UnitRecord> SqliteStateStore::get_unit(const std::string& name) {
    std::lock_guard lock(m_mutex);
    auto stmt = prepare_select(m_db, kSelectUnit, "WHERE name = ?1");
    if (!stmt) return std::nullopt;
    stmt->bind(1, name);
    auto row = stmt->step();
    if (!row || !*row) return std::nullopt;
    return read_unit(*stmt);
}

std::vector<UnitRecord> SqliteStateStore::list_units() {
    std::lock_guard lock(m_mutex);
    auto stmt = prepare_select(m_db, kSelectUnit, "ORDER BY name");
    if (!stmt) return {};
    return read_all<UnitRecord>(*stmt, read_unit);
}

// ---- the applied commit ----

std::string SqliteStateStore::applied_commit() { return meta(kAppliedCommitKey); }

Result<bool> SqliteStateStore::set_applied_commit(const std::string& commit) {
    return set_meta(kAppliedCommitKey, commit);
}

std::string SqliteStateStore::meta(const std::string& key) {
    std::lock_guard lock(m_mutex);
    auto stmt = SqliteStatement::prepare(m_db, "SELECT value FROM meta WHERE key = ?1");
    if (!stmt) return {};
    stmt->bind(1, key);
    auto row = stmt->step();
    if (!row || !*row) return {};
    return stmt->column_text(0);
}

Result<bool> SqliteStateStore::set_meta(const std::string& key, const std::string& value) {
    std::lock_guard lock(m_mutex);
    return write_one("record " + key + " '" + value + "'",
                     "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     key, value);
}

// ---- runs ----

Result<int64_t> SqliteStateStore::start_run(const RunRecord& run) {
    std::lock_guard lock(m_mutex);
    return write<int64_t>("record a run of '" + run.unit + "'", [&]() -> Result<int64_t> {
        auto stmt = SqliteStatement::prepare(
            m_db,
            "INSERT INTO runs (unit, invocation, exec_pid, main_pid, started_usec, ended_usec, exit_code, "
            "exit_signal, result, commit_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
        if (!stmt) return Result<int64_t>::fail(stmt.error());
        stmt->bind_all(run.unit, run.invocation, run.exec_pid, run.main_pid, run.started_usec, run.ended_usec,
                       run.exit_code, run.exit_signal, run.result, run.commit);
        if (auto inserted = stmt->run(); !inserted) return Result<int64_t>::fail(inserted.error());
        return Result<int64_t>::ok(m_db.last_insert_rowid());
    });
}

Result<bool> SqliteStateStore::finish_run(int64_t id, int64_t ended_usec, std::optional<int64_t> exit_code,
                                          std::optional<int64_t> exit_signal, const std::string& result) {
    std::lock_guard lock(m_mutex);
    return write<bool>("record the end of run " + std::to_string(id), [&]() -> Result<bool> {
        auto stmt = SqliteStatement::prepare(
            m_db,
            "UPDATE runs SET ended_usec = ?2, exit_code = ?3, exit_signal = ?4, result = ?5 WHERE id = ?1");
        if (!stmt) return Status::fail(stmt.error());
        stmt->bind_all(id, ended_usec, exit_code, exit_signal, result);
        if (auto updated = stmt->run(); !updated) return updated;
        if (m_db.changes() == 0) return Status::fail("no such run");
        return ok_status();
    });
}

std::vector<RunRecord> SqliteStateStore::runs_of(const std::string& unit, int limit) {
    std::lock_guard lock(m_mutex);
    auto stmt = prepare_select(m_db, kSelectRun, "WHERE unit = ?1 ORDER BY id DESC LIMIT ?2");
    if (!stmt) return {};
    stmt->bind_all(unit, sql_limit(limit));
    return read_all<RunRecord>(*stmt, read_run);
}

// ---- deployments ----

Result<int64_t> SqliteStateStore::begin_deployment(const DeploymentRecord& deployment) {
    std::lock_guard lock(m_mutex);
    return write<int64_t>("record the deployment of '" + deployment.commit + "'", [&]() -> Result<int64_t> {
        auto stmt = SqliteStatement::prepare(
            m_db,
            "INSERT INTO deployments (commit_id, subject, trigger_kind, uid, result, started_usec, "
            "finished_usec, author, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        if (!stmt) return Result<int64_t>::fail(stmt.error());
        stmt->bind_all(deployment.commit, deployment.subject, deployment.trigger, deployment.uid,
                       deployment.result, deployment.started_usec, deployment.finished_usec, deployment.author,
                       deployment.note);
        if (auto inserted = stmt->run(); !inserted) return Result<int64_t>::fail(inserted.error());
        const int64_t id = m_db.last_insert_rowid();
        if (auto details = insert_deployment_details(m_db, id, deployment); !details) {
            return Result<int64_t>::fail(details.error());
        }
        return Result<int64_t>::ok(id);
    });
}

Result<bool> SqliteStateStore::update_deployment(const DeploymentRecord& deployment) {
    std::lock_guard lock(m_mutex);
    return write<bool>("update deployment " + std::to_string(deployment.id), [&]() -> Result<bool> {
        auto stmt = SqliteStatement::prepare(
            m_db, "UPDATE deployments SET result = ?2, finished_usec = ?3, note = ?4 WHERE id = ?1");
        if (!stmt) return Status::fail(stmt.error());
        stmt->bind_all(deployment.id, deployment.result, deployment.finished_usec, deployment.note);
        if (auto updated = stmt->run(); !updated) return updated;
        if (m_db.changes() == 0) return Status::fail("no such deployment");
        for (const char* sql : {"DELETE FROM deployment_errors WHERE deployment_id = ?1",
                                "DELETE FROM deployment_actions WHERE deployment_id = ?1"}) {
            auto clear = SqliteStatement::prepare(m_db, sql);
            if (!clear) return Status::fail(clear.error());
            clear->bind(1, deployment.id);
            if (auto cleared = clear->run(); !cleared) return cleared;
        }
        return insert_deployment_details(m_db, deployment.id, deployment);
    });
}

std::vector<DeploymentRecord> SqliteStateStore::deployments(int limit) {
    std::lock_guard lock(m_mutex);
    // One snapshot for the deployments and their details, whatever another connection writes meanwhile.
    auto snapshot = SqliteTransaction::begin_read(m_db);
    if (!snapshot) return {};
    std::vector<DeploymentRecord> found;
    {
        auto stmt = prepare_select(m_db, kSelectDeployment, "ORDER BY id DESC LIMIT ?1");
        if (!stmt) return {};
        stmt->bind(1, sql_limit(limit));
        found = read_all<DeploymentRecord>(*stmt, read_deployment);
    }
    for (DeploymentRecord& deployment : found) load_deployment_details(m_db, deployment);
    snapshot->commit();
    return found;
}

StateStore::DeploymentStats SqliteStateStore::deployment_stats() {
    std::lock_guard lock(m_mutex);
    DeploymentStats stats;
    if (auto stmt = SqliteStatement::prepare(m_db, "SELECT result, count(*) FROM deployments WHERE result != 'in-progress' GROUP BY result")) {
        while (true) {
            const Result<bool> row = stmt->step();
            if (!row || !*row) break;
            stats.by_result[stmt->column_text(0)] = stmt->column_int(1);
        }
    }
    if (auto stmt = SqliteStatement::prepare(
            m_db, "SELECT finished_usec - started_usec FROM deployments WHERE finished_usec IS NOT NULL "
                  "AND result NOT IN ('superseded', 'in-progress')")) {
        while (true) {
            const Result<bool> row = stmt->step();
            if (!row || !*row) break;
            stats.durations_usec.push_back(stmt->column_int(0));
        }
    }
    return stats;
}

std::optional<DeploymentRecord> SqliteStateStore::last_applied_other_than(const std::string& commit) {
    std::lock_guard lock(m_mutex);
    auto stmt = prepare_select(m_db, kSelectDeployment,
                               "WHERE result = 'applied' AND commit_id != ?1 ORDER BY id DESC LIMIT 1");
    if (!stmt) return std::nullopt;
    stmt->bind_all(commit);
    std::vector<DeploymentRecord> found = read_all<DeploymentRecord>(*stmt, read_deployment);
    if (found.empty()) return std::nullopt;
    return found.front();
}

std::string SqliteStateStore::subject_of(const std::string& commit) {
    std::lock_guard lock(m_mutex);
    auto stmt = SqliteStatement::prepare(m_db, "SELECT subject FROM deployments WHERE commit_id = ?1 ORDER BY id DESC LIMIT 1");
    if (!stmt) return "";
    stmt->bind_all(commit);
    const Result<bool> row = stmt->step();
    return row && *row ? stmt->column_text(0) : "";
}

std::vector<DeploymentRecord> SqliteStateStore::interrupt_unfinished() {
    std::lock_guard lock(m_mutex);
    using Records = std::vector<DeploymentRecord>;
    auto interrupted = write<Records>("mark unfinished deployments interrupted", [&]() -> Result<Records> {
        Records found;
        {
            auto stmt = prepare_select(m_db, kSelectDeployment, "WHERE result = 'in-progress' ORDER BY id");
            if (!stmt) return Result<Records>::fail(stmt.error());
            found = read_all<DeploymentRecord>(*stmt, read_deployment);
        }
        auto update =
            SqliteStatement::prepare(m_db, "UPDATE deployments SET result = 'interrupted' WHERE id = ?1");
        if (!update) return Result<Records>::fail(update.error());
        for (DeploymentRecord& deployment : found) {
            update->reset();
            update->bind(1, deployment.id);
            if (auto updated = update->run(); !updated) return Result<Records>::fail(updated.error());
            // The finished time stays unset: nobody saw it finish.
            deployment.result = "interrupted";
            load_deployment_details(m_db, deployment);
        }
        return Result<Records>::ok(std::move(found));
    });
    return interrupted ? std::move(*interrupted) : Records{};
}

// ---- events ----

Result<int64_t> SqliteStateStore::add_event(const EventRecord& event) {
    std::lock_guard lock(m_mutex);
    return write<int64_t>("record event '" + event.message + "'", [&]() -> Result<int64_t> {
        auto stmt = SqliteStatement::prepare(
            m_db, "INSERT INTO events (time_usec, uid, kind, unit, message) VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!stmt) return Result<int64_t>::fail(stmt.error());
        stmt->bind_all(event.time_usec, event.uid, event.kind, event.unit, event.message);
        if (auto inserted = stmt->run(); !inserted) return Result<int64_t>::fail(inserted.error());
        return Result<int64_t>::ok(m_db.last_insert_rowid());
    });
}

std::vector<EventRecord> SqliteStateStore::events_since(int64_t after_id, int limit) {
    std::lock_guard lock(m_mutex);
    auto stmt = prepare_select(m_db, kSelectEvent, "WHERE id > ?1 ORDER BY id LIMIT ?2");
    if (!stmt) return {};
    stmt->bind_all(after_id, sql_limit(limit));
    return read_all<EventRecord>(*stmt, read_event);
}

std::vector<EventRecord> SqliteStateStore::latest_events(int limit) {
    std::lock_guard lock(m_mutex);
    const std::string newest = std::string(kSelectEvent) + " ORDER BY id DESC LIMIT ?1";
    auto stmt = SqliteStatement::prepare(m_db, ("SELECT * FROM (" + newest + ") ORDER BY id").c_str());
    if (!stmt) return {};
    stmt->bind_all(sql_limit(limit));
    return read_all<EventRecord>(*stmt, read_event);
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& path) {
    using Opened = Result<std::unique_ptr<StateStore>>;
    auto fail = [&](const std::string& why) {
        return Opened::fail("cannot open state database '" + path + "': " + why);
    };
    auto db = SqliteDb::open(path);
    if (!db) return fail(db.error());
    if (auto prepared = prepare_schema(*db); !prepared) return fail(prepared.error());
    return Opened::ok(std::make_unique<SqliteStateStore>(std::move(*db)));
}

}  // namespace gitvisor::daemon
