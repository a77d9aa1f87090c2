// A kill -9 of gitvisord at any moment loses no committed row (DESIGN §6). The writers here are forked
// children that never close the store: they _exit() or are SIGKILLed with the connection open.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "daemon/state/state_store.h"
#include "test_support.h"

using gitvisor::daemon::EventRecord;
using gitvisor::daemon::StateStore;
using gitvisor::daemon::testing::open_store;
using gitvisor::daemon::testing::RawDb;
using gitvisor::daemon::testing::TempDir;

namespace {

std::string event_message(int round, int64_t i) {
    // Long enough that the log passes the auto-checkpoint size within a round: the kill may land in one.
    return "round " + std::to_string(round) + " event " + std::to_string(i) + " " + std::string(500, 'x');
}

// Child side: no Catch2 here, only exit codes. _exit() runs no destructor, so the store is never closed.
[[noreturn]] void write_events_and_exit(const std::string& path, int count) {
    auto store = StateStore::open(path);
    if (!store) _exit(2);
    for (int i = 0; i < count; ++i) {
        if (!(*store)->add_event({0, i, -1, "unit", "web.service", event_message(0, i)})) _exit(3);
    }
    _exit(0);
}

// Child side: writes until killed, reporting the id of every committed event through `fd`.
[[noreturn]] void stream_events(const std::string& path, int round, int fd) {
    auto store = StateStore::open(path);
    if (!store) _exit(2);
    for (int64_t i = 0;; ++i) {
        auto id = (*store)->add_event({0, i, -1, "unit", "web.service", event_message(round, i)});
        if (!id) _exit(3);
        const int64_t committed = *id;
        if (write(fd, &committed, sizeof committed) != sizeof committed) _exit(4);
    }
}

// Reads ids from `fd` until EOF; once `kill_after` have arrived, SIGKILLs `child` and keeps reading what it
// had already reported.
std::vector<int64_t> read_ids_then_kill(int fd, pid_t child, size_t kill_after) {
    std::vector<int64_t> ids;
    std::string pending;
    bool killed = false;
    char buffer[4096];
    for (;;) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pending.append(buffer, static_cast<size_t>(n));
        while (pending.size() >= sizeof(int64_t)) {
            int64_t id = 0;
            std::memcpy(&id, pending.data(), sizeof id);
            pending.erase(0, sizeof id);
            ids.push_back(id);
        }
        if (!killed && ids.size() >= kill_after) {
            kill(child, SIGKILL);
            killed = true;
        }
    }
    CHECK(pending.empty());
    return ids;
}

}  // namespace

TEST_CASE("events of a process that exits without closing the store are all there", "[state][durability]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    constexpr int kEvents = 300;

    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) write_events_and_exit(path, kEvents);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    // Never checkpointed at close: the newest events are only in the log.
    REQUIRE(std::filesystem::exists(path + "-wal"));
    CHECK(std::filesystem::file_size(path + "-wal") > 0);

    auto store = open_store(path);
    auto events = store->events_since(0, 0);
    REQUIRE(events.size() == kEvents);
    for (int i = 0; i < kEvents; ++i) {
        CHECK(events[i].time_usec == i);
        CHECK(events[i].message == event_message(0, i));
    }
}

TEST_CASE("kill -9 during a stream of writes loses no row reported committed", "[state][durability]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    constexpr int kRounds = 3;
    constexpr size_t kKillAfter = 1500;

    std::map<int64_t, std::string> reported;  // id -> message
    for (int round = 0; round < kRounds; ++round) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            close(fds[0]);
            stream_events(path, round, fds[1]);
        }
        close(fds[1]);
        std::vector<int64_t> ids = read_ids_then_kill(fds[0], child, kKillAfter);
        close(fds[0]);
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        INFO("round " << round << ", " << ids.size() << " events reported");
        REQUIRE(WIFSIGNALED(status));
        REQUIRE(WTERMSIG(status) == SIGKILL);
        REQUIRE(ids.size() >= kKillAfter);
        for (size_t i = 0; i < ids.size(); ++i)
            reported[ids[i]] = event_message(round, static_cast<int64_t>(i));
    }

    auto store = open_store(path);
    std::map<int64_t, std::string> stored;
    for (const EventRecord& event : store->events_since(0, 0)) stored[event.id] = event.message;
    CHECK(stored.size() >= reported.size());
    size_t lost = 0;
    for (const auto& [id, message] : reported) {
        auto found = stored.find(id);
        if (found == stored.end() || found->second != message) ++lost;
    }
    CHECK(lost == 0);
    store.reset();
    CHECK(RawDb(path).text("PRAGMA integrity_check") == "ok");
}
