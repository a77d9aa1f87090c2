#include "daemon/state/sqlite_db.h"

#include <utility>

namespace gitvisor::daemon {

// ---- SqliteDb ----

Result<SqliteDb> SqliteDb::open(const std::string& path) {
    sqlite3* db = nullptr;
    // Our own mutex serialises the connection (StateStore); SQLite's is kept anyway, it costs nothing here.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        // sqlite3_open_v2 hands back a connection even on failure (except out of memory), for the message.
        std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        return Result<SqliteDb>::fail(message);
    }
    sqlite3_extended_result_codes(db, 1);
    return Result<SqliteDb>::ok(SqliteDb(db, path));
}

SqliteDb::SqliteDb(SqliteDb&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)), m_path(std::move(other.m_path)) {}

SqliteDb& SqliteDb::operator=(SqliteDb&& other) noexcept {
    if (this != &other) {
        sqlite3_close_v2(m_db);
        m_db = std::exchange(other.m_db, nullptr);
        m_path = std::move(other.m_path);
    }
    return *this;
}

// sqlite3_close_v2 with a null pointer is a no-op; it also copes with statements still open.
SqliteDb::~SqliteDb() { sqlite3_close_v2(m_db); }

std::string SqliteDb::error_message() const { return sqlite3_errmsg(m_db); }

Status SqliteDb::exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        std::string error = message ? message : error_message();
        sqlite3_free(message);
        return Status::fail(error);
    }
    return ok_status();
}

Result<int64_t> SqliteDb::query_int(const char* sql) {
    auto stmt = SqliteStatement::prepare(*this, sql);
    if (!stmt) return Result<int64_t>::fail(stmt.error());
    auto row = stmt->step();
    if (!row) return Result<int64_t>::fail(row.error());
    if (!*row) return Result<int64_t>::fail("no result");
    return Result<int64_t>::ok(stmt->column_int(0));
}

Result<std::string> SqliteDb::query_text(const char* sql) {
    auto stmt = SqliteStatement::prepare(*this, sql);
    if (!stmt) return Result<std::string>::fail(stmt.error());
    auto row = stmt->step();
    if (!row) return Result<std::string>::fail(row.error());
    if (!*row) return Result<std::string>::fail("no result");
    return Result<std::string>::ok(stmt->column_text(0));
}

// ---- SqliteStatement ----

Result<SqliteStatement> SqliteStatement::prepare(SqliteDb& db, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql, -1, &stmt, nullptr) != SQLITE_OK) {
        return Result<SqliteStatement>::fail(db.error_message());
    }
    return Result<SqliteStatement>::ok(SqliteStatement(stmt, db.get()));
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : m_stmt(std::exchange(other.m_stmt, nullptr)),
      m_db(other.m_db),
      m_bind_error(std::move(other.m_bind_error)) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(m_stmt);
        m_stmt = std::exchange(other.m_stmt, nullptr);
        m_db = other.m_db;
        m_bind_error = std::move(other.m_bind_error);
    }
    return *this;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(m_stmt); }

void SqliteStatement::note_bind(int rc) {
    if (rc != SQLITE_OK && m_bind_error.empty()) m_bind_error = sqlite3_errmsg(m_db);
}

SqliteStatement& SqliteStatement::bind(int index, int64_t value) {
    note_bind(sqlite3_bind_int64(m_stmt, index, value));
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view value) {
    // SQLITE_TRANSIENT: SQLite copies the text, so a temporary argument cannot dangle.
    note_bind(sqlite3_bind_text64(m_stmt, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, const std::optional<int64_t>& value) {
    note_bind(value ? sqlite3_bind_int64(m_stmt, index, *value) : sqlite3_bind_null(m_stmt, index));
    return *this;
}

Result<bool> SqliteStatement::step() {
    if (!m_bind_error.empty()) return Result<bool>::fail(m_bind_error);
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return Result<bool>::ok(true);
    if (rc == SQLITE_DONE) return Result<bool>::ok(false);
    std::string message = sqlite3_errmsg(m_db);
    sqlite3_reset(m_stmt);  // ends the statement's implicit transaction, if any
    return Result<bool>::fail(message);
}

Status SqliteStatement::run() {
    for (;;) {
        auto row = step();
        if (!row) return row;
        if (!*row) return ok_status();
    }
}

void SqliteStatement::reset() { sqlite3_reset(m_stmt); }

int64_t SqliteStatement::column_int(int column) const { return sqlite3_column_int64(m_stmt, column); }

std::optional<int64_t> SqliteStatement::column_optional_int(int column) const {
    if (sqlite3_column_type(m_stmt, column) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(m_stmt, column);
}

std::string SqliteStatement::column_text(int column) const {
    // Text first, then its length: the length call is only valid after the conversion to text.
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, column));
    if (!text) return {};
    return std::string(text, static_cast<size_t>(sqlite3_column_bytes(m_stmt, column)));
}

// ---- SqliteTransaction ----

Result<SqliteTransaction> SqliteTransaction::begin(SqliteDb& db) {
    if (auto begun = db.exec("BEGIN IMMEDIATE"); !begun)
        return Result<SqliteTransaction>::fail(begun.error());
    return Result<SqliteTransaction>::ok(SqliteTransaction(&db));
}

Result<SqliteTransaction> SqliteTransaction::begin_read(SqliteDb& db) {
    if (auto begun = db.exec("BEGIN DEFERRED"); !begun) return Result<SqliteTransaction>::fail(begun.error());
    return Result<SqliteTransaction>::ok(SqliteTransaction(&db));
}

SqliteTransaction::SqliteTransaction(SqliteTransaction&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)) {}

SqliteTransaction::~SqliteTransaction() {
    // A failed COMMIT may already have ended the transaction; ROLLBACK then fails harmlessly.
    if (m_db && !sqlite3_get_autocommit(m_db->get())) m_db->exec("ROLLBACK");
}

Status SqliteTransaction::commit() {
    auto committed = m_db->exec("COMMIT");
    if (committed) m_db = nullptr;
    return committed;
}

}  // namespace gitvisor::daemon
