#include "daemon/state/schema.h"

#include <iterator>
#include <string>

#include "daemon/state/state_store.h"

namespace gitvisor::daemon {
namespace {

struct Migration {
    int version;      // user_version once applied
    const char* sql;  // DDL only: no values from outside ever reach it
};

// Append only: a released migration is never edited, a change of schema is a new migration.
// Runs, deployments and events use AUTOINCREMENT so that an id is never handed out twice, even after the
// newest rows are deleted: `events -f` resumes from the last id it saw.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE units (
    name         TEXT PRIMARY KEY NOT NULL,
    spec_hash    TEXT NOT NULL,
    commit_id    TEXT NOT NULL,
    unit_json    TEXT NOT NULL,
    unit_text    TEXT NOT NULL,
    held_stopped INTEGER NOT NULL CHECK (held_stopped IN (0, 1)),
    state        TEXT NOT NULL,
    sub_state    TEXT NOT NULL,
    result       TEXT NOT NULL,
    exec_pid     INTEGER NOT NULL,
    main_pid     INTEGER NOT NULL,
    ns_pid       INTEGER NOT NULL,
    cgroup       TEXT NOT NULL,
    invocation   TEXT NOT NULL,
    since_usec   INTEGER NOT NULL,
    restarts     INTEGER NOT NULL
);

-- A run outlives its unit (the history of a removed unit stays), so there is no foreign key to units.
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    unit         TEXT NOT NULL,
    invocation   TEXT NOT NULL,
    exec_pid     INTEGER NOT NULL,
    main_pid     INTEGER NOT NULL,
    started_usec INTEGER NOT NULL,
    ended_usec   INTEGER,
    exit_code    INTEGER,
    exit_signal  INTEGER,
    result       TEXT NOT NULL
);
CREATE INDEX runs_by_unit ON runs (unit, id);

CREATE TABLE deployments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    commit_id     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    trigger_kind  TEXT NOT NULL,
    uid           INTEGER NOT NULL,
    result        TEXT NOT NULL,
    started_usec  INTEGER NOT NULL,
    finished_usec INTEGER
);
-- interrupt_unfinished() at every start-up looks only at these few rows.
CREATE INDEX deployments_in_progress ON deployments (id) WHERE result = 'in-progress';

CREATE TABLE deployment_errors (
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    file          TEXT NOT NULL,
    line          INTEGER NOT NULL,
    message       TEXT NOT NULL,
    PRIMARY KEY (deployment_id, position)
) WITHOUT ROWID;

CREATE TABLE deployment_actions (
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    unit          TEXT NOT NULL,
    action        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    result        TEXT NOT NULL,
    PRIMARY KEY (deployment_id, position)
) WITHOUT ROWID;

CREATE TABLE events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    time_usec INTEGER NOT NULL,
    uid       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    unit      TEXT NOT NULL,
    message   TEXT NOT NULL
);
)sql"},
    // The commit whose version of the unit a run ran: `logs --json` gives it for every line.
    {2, R"sql(
ALTER TABLE runs ADD COLUMN commit_id TEXT NOT NULL DEFAULT '';
)sql"},
    // Who wrote the deployed commit (`history` shows it) and why a deploy of it was asked for beyond its
    // trigger (a rollback's target, history rewritten by a force-push).
    {3, R"sql(
ALTER TABLE deployments ADD COLUMN author TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN note TEXT NOT NULL DEFAULT '';
)sql"},
};

constexpr bool versions_are_consecutive() {
    int expected = 1;
    for (const Migration& migration : kMigrations) {
        if (migration.version != expected++) return false;
    }
    return true;
}
static_assert(versions_are_consecutive(), "migrations must number 1, 2, 3, ... in order");
static_assert(std::size(kMigrations) == StateStore::kSchemaVersion,
              "StateStore::kSchemaVersion must be the last migration's version");

// In its own transaction; re-reads the version inside it, as another process may have migrated meanwhile.
Status apply(SqliteDb& db, const Migration& migration) {
    auto fail = [&](const std::string& why) {
        return Status::fail("cannot migrate to schema version " + std::to_string(migration.version) + ": " +
                            why);
    };
    auto transaction = SqliteTransaction::begin(db);
    if (!transaction) return fail(transaction.error());
    auto version = db.query_int("PRAGMA user_version");
    if (!version) return fail(version.error());
    if (*version >= migration.version) return ok_status();  // rolled back: nothing was written
    if (auto created = db.exec(migration.sql); !created) return fail(created.error());
    // PRAGMA takes no bound parameters; the numbers are our own constants, not values from outside.
    const std::string stamp = "PRAGMA user_version = " + std::to_string(migration.version) +
                              "; PRAGMA application_id = " + std::to_string(kStateApplicationId);
    if (auto stamped = db.exec(stamp.c_str()); !stamped) return fail(stamped.error());
    if (auto committed = transaction->commit(); !committed) return fail(committed.error());
    return ok_status();
}

Status check_identity(SqliteDb& db) {
    // The first read of the file: "file is not a database" for anything else, and nothing is written.
    auto version = db.query_int("PRAGMA user_version");
    if (!version) return Status::fail(version.error());
    auto application_id = db.query_int("PRAGMA application_id");
    if (!application_id) return Status::fail(application_id.error());

    if (*version > latest_schema_version()) {
        return Status::fail("its schema version " + std::to_string(*version) + " is newer than the version " +
                            std::to_string(latest_schema_version()) +
                            " this gitvisord knows (a newer gitvisord wrote it); it is left as it is");
    }
    if (*application_id != 0 && *application_id != kStateApplicationId) {
        return Status::fail("not a gitvisor state database (application_id " +
                            std::to_string(*application_id) + ")");
    }
    if (*version == 0) {
        auto tables = db.query_int("SELECT count(*) FROM sqlite_master");
        if (!tables) return Status::fail(tables.error());
        if (*tables != 0) {
            return Status::fail("not a gitvisor state database (it has tables but no schema version)");
        }
    }
    return ok_status();
}

Status configure(SqliteDb& db) {
    auto mode = db.query_text("PRAGMA journal_mode = WAL");
    if (!mode) return Status::fail("cannot enable WAL: " + mode.error());
    if (*mode != "wal") return Status::fail("cannot enable WAL: the journal mode stays '" + *mode + "'");
    // With WAL, synchronous=NORMAL syncs the log at checkpoints instead of at every commit. A commit is
    // in the log (the kernel's page cache) before COMMIT returns, so a crash or kill -9 of gitvisord loses
    // nothing; only a power loss or kernel panic can lose the commits since the last checkpoint, and the
    // file stays consistent even then. After such a reboot units start afresh and the applied commit is
    // deployed again from git: at worst the last moments of history are missing. FULL would buy that
    // with an fsync per event and per state change, wearing out the SD cards of small hosts.
    if (auto set = db.exec("PRAGMA synchronous = NORMAL"); !set) return set;
    if (auto set = db.exec("PRAGMA foreign_keys = ON"); !set) return set;
    auto foreign_keys = db.query_int("PRAGMA foreign_keys");
    if (!foreign_keys) return Status::fail(foreign_keys.error());
    if (*foreign_keys != 1) return Status::fail("this SQLite cannot enforce foreign keys");
    return ok_status();
}

}  // namespace

int latest_schema_version() { return kMigrations[std::size(kMigrations) - 1].version; }

Status prepare_schema(SqliteDb& db) {
    // Another connection (a second gitvisord refusing to start, the sqlite3 shell) may hold a lock for a
    // moment: wait up to 5 s rather than failing a write at once.
    if (sqlite3_busy_timeout(db.get(), 5000) != SQLITE_OK) return Status::fail(db.error_message());
    if (auto identity = check_identity(db); !identity) return identity;
    // SQLite quietly falls back to read-only for a file it may not write; every write would then fail.
    if (sqlite3_db_readonly(db.get(), "main") == 1) return Status::fail("the file is read-only");
    if (auto configured = configure(db); !configured) return configured;
    for (const Migration& migration : kMigrations) {
        if (auto applied = apply(db, migration); !applied) return applied;
    }
    return ok_status();
}

}  // namespace gitvisor::daemon
