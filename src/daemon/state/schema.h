#pragma once
// The state database's schema: a list of migrations, each taking the schema from version N-1 to N, the
// version kept in PRAGMA user_version. Migrations only ever move forward: a database whose version is
// newer than the last migration here was written by a newer gitvisord and is refused, never touched.

#include "daemon/state/sqlite_db.h"

namespace gitvisor::daemon {

// PRAGMA application_id of a gitvisor state database ("gvsd"), so that another program's SQLite file
// given by mistake is refused instead of having our tables added to it.
inline constexpr int64_t kStateApplicationId = 0x67767364;

// The version the last migration reaches; equal to StateStore::kSchemaVersion.
int latest_schema_version();

// Sets up a freshly opened connection and brings its schema to the latest version, in this order:
//   1. busy_timeout, so that another connection's lock is waited for instead of failing at once;
//   2. read user_version and application_id: the first read of the file, which fails for a file that is
//      not a database; a newer version or a foreign application id is refused before anything is written;
//   3. WAL journal mode, synchronous=NORMAL, foreign keys on;
//   4. every migration above the file's version, each in its own transaction.
// The error is SQLite's message or a sentence saying what is wrong; the caller adds the path.
Status prepare_schema(SqliteDb& db);

}  // namespace gitvisor::daemon
