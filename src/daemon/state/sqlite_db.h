#pragma once
// RAII for SQLite: one connection (SqliteDb), one prepared statement (SqliteStatement) and one write
// transaction (SqliteTransaction). Errors are values carrying SQLite's message; nothing here logs.
// Values only ever reach SQL through bind(): SQL text is always a constant of the caller.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace gitvisor::daemon {

using Status = Result<bool>;
inline Status ok_status() { return Status::ok(true); }

class SqliteDb {
public:
    // Opens `path` read-write, creating it when missing. SQLite reads nothing yet: a file that is not a
    // database shows up at the first statement.
    static Result<SqliteDb> open(const std::string& path);

    SqliteDb(SqliteDb&& other) noexcept;
    SqliteDb& operator=(SqliteDb&& other) noexcept;
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;
    ~SqliteDb();

    sqlite3* get() const { return m_db; }
    const std::string& path() const { return m_path; }
    std::string error_message() const;  // of the last failed call on this connection

    // Runs SQL without values (schema, pragmas); may hold several statements.
    Status exec(const char* sql);
    // The first column of the first row of a query without values, e.g. "PRAGMA user_version".
    Result<int64_t> query_int(const char* sql);
    Result<std::string> query_text(const char* sql);

    int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(m_db); }
    int64_t changes() const { return sqlite3_changes(m_db); }

private:
    SqliteDb(sqlite3* db, std::string path) : m_db(db), m_path(std::move(path)) {}

    sqlite3* m_db = nullptr;
    std::string m_path;
};

class SqliteStatement {
public:
    static Result<SqliteStatement> prepare(SqliteDb& db, const char* sql);

    SqliteStatement(SqliteStatement&& other) noexcept;
    SqliteStatement& operator=(SqliteStatement&& other) noexcept;
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;
    ~SqliteStatement();

    // Parameters count from 1. A failed bind is remembered and reported by the next step().
    SqliteStatement& bind(int index, int64_t value);
    SqliteStatement& bind(int index, std::string_view value);
    SqliteStatement& bind(int index, const std::optional<int64_t>& value);  // nullopt -> NULL
    // Binds the arguments to parameters 1, 2, ... in order.
    template <class... Args>
    SqliteStatement& bind_all(const Args&... args) {
        int index = 0;
        (bind(++index, args), ...);
        return *this;
    }

    // true: a row is ready for the column accessors; false: the statement has finished.
    Result<bool> step();
    // Steps to the end (INSERT, UPDATE, DELETE).
    Status run();
    // Back to before the first step, keeping the bindings, for the next row to insert.
    void reset();

    int64_t column_int(int column) const;  // columns count from 0
    std::optional<int64_t> column_optional_int(int column) const;
    std::string column_text(int column) const;  // NULL -> ""

private:
    SqliteStatement(sqlite3_stmt* stmt, sqlite3* db) : m_stmt(stmt), m_db(db) {}
    void note_bind(int rc);

    sqlite3_stmt* m_stmt = nullptr;
    sqlite3* m_db = nullptr;
    std::string m_bind_error;
};

// BEGIN IMMEDIATE ... COMMIT. IMMEDIATE takes the write lock at once, so a busy database is waited for
// (busy_timeout) at BEGIN instead of failing half-way through. Rolled back on destruction unless committed.
class SqliteTransaction {
public:
    static Result<SqliteTransaction> begin(SqliteDb& db);
    // A read-only snapshot (BEGIN DEFERRED), so that several queries see one state of the database.
    static Result<SqliteTransaction> begin_read(SqliteDb& db);

    SqliteTransaction(SqliteTransaction&& other) noexcept;
    SqliteTransaction& operator=(SqliteTransaction&&) = delete;
    SqliteTransaction(const SqliteTransaction&) = delete;
    SqliteTransaction& operator=(const SqliteTransaction&) = delete;
    ~SqliteTransaction();

    Status commit();

private:
    explicit SqliteTransaction(SqliteDb* db) : m_db(db) {}

    SqliteDb* m_db = nullptr;  // null once committed or rolled back
};

}  // namespace gitvisor::daemon
