#include "daemon/state/schema.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/state/state_store.h"
#include "test_support.h"

using gitvisor::daemon::kStateApplicationId;
using gitvisor::daemon::StateStore;
using gitvisor::daemon::testing::open_store;
using gitvisor::daemon::testing::RawDb;
using gitvisor::daemon::testing::read_bytes;
using gitvisor::daemon::testing::TempDir;

namespace {

bool exists(const std::string& path) { return std::filesystem::exists(path); }

// Opening must fail with exactly `message` and leave the file (and the absence of sidecar files) as it was.
void check_refused(const std::string& path, const std::string& message) {
    const std::string before = read_bytes(path);
    const bool had_wal = exists(path + "-wal");
    auto store = StateStore::open(path);
    REQUIRE_FALSE(store);
    CHECK(store.error() == message);
    CHECK(read_bytes(path) == before);
    CHECK(exists(path + "-wal") == had_wal);
    CHECK_FALSE(exists(path + "-journal"));
}

}  // namespace

TEST_CASE("a new state database gets the current schema version, WAL and the gitvisor application id",
          "[state][schema]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    {
        auto store = open_store(path);
        CHECK(store->schema_version() == StateStore::kSchemaVersion);
    }
    RawDb raw(path);
    CHECK(raw.integer("PRAGMA user_version") == StateStore::kSchemaVersion);
    CHECK(raw.integer("PRAGMA application_id") == kStateApplicationId);
    CHECK(raw.text("PRAGMA journal_mode") == "wal");
    for (const char* table :
         {"meta", "units", "runs", "deployments", "deployment_errors", "deployment_actions", "events"}) {
        INFO(table);
        CHECK(raw.integer(("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" +
                           std::string(table) + "'")
                              .c_str()) == 1);
    }
    for (const char* index : {"runs_by_unit", "deployments_in_progress"}) {
        INFO(index);
        CHECK(raw.integer(("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '" +
                           std::string(index) + "'")
                              .c_str()) == 1);
    }
}

TEST_CASE("reopening a state database migrates nothing and keeps the version", "[state][schema]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    { REQUIRE(open_store(path)->set_applied_commit("abc123")); }
    auto store = open_store(path);
    CHECK(store->schema_version() == StateStore::kSchemaVersion);
    CHECK(store->applied_commit() == "abc123");
}

TEST_CASE("a state database of a newer schema version is refused and left as it is", "[state][schema]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    { REQUIRE(open_store(path)->set_applied_commit("abc123")); }
    { RawDb(path).exec("PRAGMA user_version = 99"); }
    check_refused(path,
                  "cannot open state database '" + path +
                      "': its schema version 99 is newer than the version " + std::to_string(StateStore::kSchemaVersion) + " this gitvisord knows (a newer "
                      "gitvisord wrote it); it is left as it is");
    RawDb raw(path);
    CHECK(raw.integer("PRAGMA user_version") == 99);
    CHECK(raw.text("SELECT value FROM meta WHERE key = 'applied_commit'") == "abc123");
}

TEST_CASE("a file that is not a database is refused and left byte-identical", "[state][schema]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    {
        std::ofstream out(path, std::ios::binary);
        for (int i = 0; i < 300; ++i) out << "this is not a database, line " << i << '\n';
    }
    check_refused(path, "cannot open state database '" + path + "': file is not a database");
}

TEST_CASE("an SQLite database of another program is refused", "[state][schema]") {
    TempDir dir;
    SECTION("tables without a schema version") {
        const std::string path = dir.file("other.db");
        { RawDb(path).exec("CREATE TABLE notes (text TEXT)"); }
        check_refused(path, "cannot open state database '" + path +
                                "': not a gitvisor state database (it has tables but no schema version)");
    }
    SECTION("another application id") {
        const std::string path = dir.file("other.db");
        { RawDb(path).exec("PRAGMA application_id = 42"); }
        check_refused(path, "cannot open state database '" + path +
                                "': not a gitvisor state database (application_id 42)");
    }
}

TEST_CASE("a database in a missing directory is an error naming the path", "[state][schema]") {
    TempDir dir;
    const std::string path = dir.file("missing/state.db");
    auto store = StateStore::open(path);
    REQUIRE_FALSE(store);
    CHECK(store.error() == "cannot open state database '" + path + "': unable to open database file");
    CHECK_FALSE(exists(dir.file("missing")));
}

TEST_CASE("an empty file becomes a state database", "[state][schema]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    { std::ofstream out(path); }
    auto store = open_store(path);
    CHECK(store->schema_version() == StateStore::kSchemaVersion);
}

TEST_CASE("a version 1 database is migrated with its runs kept and their commit empty", "[state][schema]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    {
        auto store = open_store(path);
        RawDb raw(path);
        // Back to what version 1 had: runs without commit_id, deployments without author and note.
        raw.exec("ALTER TABLE runs DROP COLUMN commit_id");
        raw.exec("ALTER TABLE deployments DROP COLUMN author");
        raw.exec("ALTER TABLE deployments DROP COLUMN note");
        raw.exec("INSERT INTO runs (unit, invocation, exec_pid, main_pid, started_usec, result) "
                 "VALUES ('web.service', 'inv-1', 10, 11, 5, '')");
        raw.exec("PRAGMA user_version = 1");
    }
    auto store = open_store(path);
    CHECK(store->schema_version() == StateStore::kSchemaVersion);
    const auto runs = store->runs_of("web.service", 10);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].invocation == "inv-1");
    CHECK(runs[0].commit.empty());
}
