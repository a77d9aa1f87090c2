#include "daemon/logs/log_follower.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "daemon/logs/log_reader.h"
#include "log_test_support.h"

using namespace gitvisor::daemon::logs;
using namespace gitvisor::daemon::logs::testing;

namespace {

// A unit's log folder inside a temporary directory (so that it can be removed while the directory stays).
struct LogFolder {
    TempDir tmp;
    std::string dir = tmp.file("web.service");
    LogFolder() { std::filesystem::create_directory(dir); }
};

LogPosition end_of(const std::string& dir) { return read_log(dir, LogQuery{}).end; }

void start(LogFollower& follower) {
    const auto started = follower.start();
    INFO(started.error());
    REQUIRE(started);
}

}  // namespace

TEST_CASE("a follower gets the lines appended after the read", "[logs][follow]") {
    LogFolder log;
    ExecWriter writer(log.dir, 4);
    writer.write_lines(0, 5);
    const LogRead read = read_log(log.dir, LogQuery{});
    CHECK(read.lines == numbered_lines(0, 5));

    LogFollower follower(log.dir, read.end);
    start(follower);
    CHECK(follower.read_new().empty());
    writer.write_lines(5, 8);
    CHECK(follow(follower, 3) == numbered_lines(5, 8));
    writer.write_lines(8, 9);
    CHECK(follow(follower, 1) == numbered_lines(8, 9));
    CHECK(follow_briefly(follower).empty());
    CHECK_FALSE(follower.ended());
    CHECK_FALSE(follower.more());
}

TEST_CASE("a line being written comes once its newline arrives", "[logs][follow]") {
    LogFolder log;
    ExecWriter writer(log.dir, 4);
    const std::string line = format(numbered(0));
    writer.write(line.substr(0, 12));  // even the time stamp is cut
    LogFollower follower(log.dir, end_of(log.dir));
    start(follower);
    CHECK(follow_briefly(follower).empty());
    writer.write(line.substr(12, 30));
    CHECK(follow_briefly(follower).empty());
    writer.write(line.substr(42) + format(numbered(1)).substr(0, 5));
    CHECK(follow(follower, 1) == numbered_lines(0, 1));
    writer.write(format(numbered(1)).substr(5));
    CHECK(follow(follower, 1) == numbered_lines(1, 2));
    CHECK(follow_briefly(follower).empty());
}

TEST_CASE("a follower starting at a partial line held back by the reader gets it whole", "[logs][follow]") {
    LogFolder log;
    ExecWriter writer(log.dir, 4);
    writer.write_lines(0, 2);
    const std::string line = format(numbered(2));
    writer.write(line.substr(0, 40));
    const LogRead read = read_log(log.dir, LogQuery{});
    CHECK(read.lines == numbered_lines(0, 2));
    LogQuery last;
    last.tail = 1;
    CHECK(read_log(log.dir, last).end == read.end);  // a tail stops at the same place
    LogFollower follower(log.dir, read.end);
    start(follower);
    writer.write(line.substr(40));
    CHECK(follow(follower, 1) == numbered_lines(2, 3));
}

TEST_CASE("a follower goes on across rotations, each line once and in order", "[logs][follow]") {
    LogFolder log;
    ExecWriter writer(log.dir, 3);
    writer.write_lines(0, 3);
    LogFollower follower(log.dir, end_of(log.dir));
    start(follower);

    SECTION("read between every step") {
        writer.write_lines(3, 5);
        CHECK(follow(follower, 2) == numbered_lines(3, 5));
        writer.rotate();
        CHECK(follow_briefly(follower).empty());
        writer.write_lines(5, 7);
        CHECK(follow(follower, 2) == numbered_lines(5, 7));
        writer.write_lines(7, 8);
        writer.rotate();
        writer.write_lines(8, 9);
        CHECK(follow(follower, 2) == numbered_lines(7, 9));
    }
    SECTION("read once after several rotations") {
        writer.write_lines(3, 5);
        writer.rotate();
        writer.write_lines(5, 7);
        writer.rotate();
        writer.rotate();  // an empty file in between
        writer.write_lines(7, 9);
        CHECK(follow(follower, 6) == numbered_lines(3, 9));
    }
    SECTION("a line cut by the rotation's timing: its start before, its newline after a read") {
        const std::string line = format(numbered(3));
        writer.write(line.substr(0, 20));
        CHECK(follow_briefly(follower).empty());
        writer.write(line.substr(20));
        writer.rotate();
        writer.write_lines(4, 5);
        CHECK(follow(follower, 2) == numbered_lines(3, 5));
    }
    CHECK(follow_briefly(follower).empty());
}

TEST_CASE("a rotation between the read and the follower's start loses nothing", "[logs][follow]") {
    LogFolder log;
    ExecWriter writer(log.dir, 5);
    writer.write_lines(0, 3);
    const LogRead read = read_log(log.dir, LogQuery{});
    REQUIRE(read.lines == numbered_lines(0, 3));

    writer.write_lines(3, 5);  // still in the file read, which then becomes current.2
    writer.rotate();
    writer.write_lines(5, 6);
    writer.rotate();
    writer.write_lines(6, 8);

    LogFollower follower(log.dir, read.end);
    start(follower);
    CHECK(follow(follower, 5) == numbered_lines(3, 8));
    writer.write_lines(8, 9);
    CHECK(follow(follower, 1) == numbered_lines(8, 9));
}

TEST_CASE("a file removed by a rotation that keeps nothing is followed by the new current",
          "[logs][follow]") {
    LogFolder log;
    ExecWriter writer(log.dir, 0);
    writer.write_lines(0, 2);
    LogFollower follower(log.dir, end_of(log.dir));
    start(follower);
    writer.write_lines(2, 3);
    CHECK(follow(follower, 1) == numbered_lines(2, 3));
    writer.write_lines(3, 4);
    writer.rotate();  // current unlinked, a new one opened
    writer.write_lines(4, 6);
    CHECK(follow(follower, 3) == numbered_lines(3, 6));
}

TEST_CASE("a restarted unit appends to the same current and is followed", "[logs][follow]") {
    LogFolder log;
    auto writer = std::make_unique<ExecWriter>(log.dir, 4);
    writer->write_lines(0, 2);
    LogFollower follower(log.dir, end_of(log.dir));
    start(follower);
    writer->write_lines(2, 3);
    writer.reset();  // the old gitvisor-exec is gone
    writer = std::make_unique<ExecWriter>(log.dir, 4);
    writer->write_lines(3, 5, kInvocationB);
    std::vector<LogLine> expected = numbered_lines(2, 3);
    for (const LogLine& line : numbered_lines(3, 5, kInvocationB)) expected.push_back(line);
    CHECK(follow(follower, 3) == expected);
}

TEST_CASE("a folder without current is followed from the current that appears", "[logs][follow]") {
    LogFolder log;
    write_file(log.dir + "/current.1", numbered_text(0, 2));  // read already; current is being rotated
    const LogRead read = read_log(log.dir, LogQuery{});
    CHECK(read.lines == numbered_lines(0, 2));
    CHECK(read.end == LogPosition{});

    LogFollower follower(log.dir, read.end);
    start(follower);
    CHECK(follow_briefly(follower).empty());
    ExecWriter writer(log.dir, 4);
    writer.write_lines(2, 4);
    CHECK(follow(follower, 2) == numbered_lines(2, 4));
}

TEST_CASE("an empty folder whose first current is rotated before the first read loses nothing",
          "[logs][follow]") {
    LogFolder log;
    LogFollower follower(log.dir, end_of(log.dir));
    start(follower);
    ExecWriter writer(log.dir, 4);
    writer.write_lines(0, 2);
    writer.rotate();
    writer.write_lines(2, 3);
    CHECK(follow(follower, 3) == numbered_lines(0, 3));
}

TEST_CASE("a removed folder ends the follow, after the lines written before", "[logs][follow]") {
    LogFolder log;
    {
        ExecWriter writer(log.dir, 4);
        writer.write_lines(0, 1);
    }
    LogFollower follower(log.dir, end_of(log.dir));
    start(follower);
    {
        ExecWriter writer(log.dir, 4);
        writer.write_lines(1, 3);
    }
    std::filesystem::remove_all(log.dir);
    const std::vector<LogLine> lines = follow(follower, 100);
    CHECK(lines == numbered_lines(1, 3));
    CHECK(follower.ended());
    CHECK(follower.read_new().empty());
}

TEST_CASE("a folder moved away ends the follow", "[logs][follow]") {
    LogFolder log;
    ExecWriter writer(log.dir, 4);
    LogFollower follower(log.dir, end_of(log.dir));
    start(follower);
    std::filesystem::rename(log.dir, log.tmp.file("elsewhere"));
    CHECK(follow(follower, 100).empty());
    CHECK(follower.ended());
}

TEST_CASE("a folder that does not exist cannot be watched", "[logs][follow]") {
    TempDir tmp;
    const std::string dir = tmp.file("nothing.service");
    LogFollower follower(dir, LogPosition{});
    const auto started = follower.start();
    REQUIRE_FALSE(started);
    CHECK(started.error() == "cannot watch '" + dir + "': No such file or directory");
    CHECK(follower.read_new().empty());
}

TEST_CASE("a large backlog comes in bounded batches", "[logs][follow]") {
    LogFolder log;
    ExecWriter writer(log.dir, 4);
    LogFollower follower(log.dir, end_of(log.dir));
    start(follower);
    constexpr int kLines = 3 * static_cast<int>(LogFollower::kMaxLinesPerRead) + 17;
    writer.write(numbered_text(0, kLines));

    std::vector<LogLine> first = follower.read_new();
    CHECK(first.size() == LogFollower::kMaxLinesPerRead);
    CHECK(follower.more());
    // The rest comes without a wake-up from fd(): more() says to call again.
    std::vector<LogLine> all = std::move(first);
    while (follower.more())
        for (LogLine& line : follower.read_new()) all.push_back(std::move(line));
    CHECK(all == numbered_lines(0, kLines));
    CHECK_FALSE(follower.more());
}

TEST_CASE("a writer rotating while the reader and the follower work loses and repeats nothing",
          "[logs][follow]") {
    LogFolder log;
    constexpr int kLines = 10'000;
    std::atomic<int> written{0};
    // Like gitvisor-exec: rotate before a line that would pass the size limit (4 KiB: ~180 files, all
    // kept); some lines written in two pieces.
    std::thread writing([&] {
        ExecWriter writer(log.dir, 200);
        for (int i = 0; i < kLines; ++i) {
            const std::string line = format(numbered(i));
            if (writer.size() > 0 && writer.size() + static_cast<off_t>(line.size()) > 4096) writer.rotate();
            if (i % 7 == 0) {
                writer.write(line.substr(0, 30));
                writer.write(line.substr(30));
            } else {
                writer.write(line);
            }
            written = i + 1;
        }
    });
    while (written < 1000) std::this_thread::yield();
    // The read and the start of the follower race with rotations too.
    LogRead read = read_log(log.dir, LogQuery{});
    LogFollower follower(log.dir, read.end);
    start(follower);
    std::vector<LogLine> lines = std::move(read.lines);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (int round = 0;
         lines.size() < static_cast<size_t>(kLines) && std::chrono::steady_clock::now() < deadline; ++round) {
        if (round % 3 == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));  // fall behind a few files
        if (!follower.more()) {
            pollfd p{follower.fd(), POLLIN, 0};
            ::poll(&p, 1, 100);
        }
        for (LogLine& line : follower.read_new()) lines.push_back(std::move(line));
    }
    writing.join();
    for (LogLine& line : follow_briefly(follower)) lines.push_back(std::move(line));
    REQUIRE(lines.size() == static_cast<size_t>(kLines));
    CHECK(lines == numbered_lines(0, kLines));
}
