#pragma once
// Shared helpers for the state tests: a temporary directory removed afterwards, whole-file reads, and
// raw SQLite access to look at (or tamper with) a database behind the store's back.

#include <sqlite3.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "daemon/state/state_store.h"

namespace gitvisor::daemon::testing {

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "gitvisor-state-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name) const { return (m_path / name).string(); }

private:
    std::filesystem::path m_path;
};

inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::unique_ptr<StateStore> open_store(const std::string& path) {
    auto store = StateStore::open(path);
    INFO(store.error());
    REQUIRE(store);
    return std::move(*store);
}

// One raw connection, closed at the end of the scope.
class RawDb {
public:
    explicit RawDb(const std::string& path) { REQUIRE(sqlite3_open(path.c_str(), &m_db) == SQLITE_OK); }
    ~RawDb() { sqlite3_close(m_db); }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;

    void exec(const char* sql) {
        INFO(sql);
        REQUIRE(sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    }
    std::string text(const char* sql) {
        sqlite3_stmt* stmt = nullptr;
        REQUIRE(sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr) == SQLITE_OK);
        std::string value;
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
            value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        }
        sqlite3_finalize(stmt);
        return value;
    }
    int64_t integer(const char* sql) { return std::stoll(text(sql)); }
    sqlite3* get() const { return m_db; }

private:
    sqlite3* m_db = nullptr;
};

}  // namespace gitvisor::daemon::testing
