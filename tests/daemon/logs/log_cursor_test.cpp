#include "daemon/logs/log_cursor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "log_test_support.h"

using namespace gitvisor::daemon::logs;
using namespace gitvisor::daemon::logs::testing;

namespace {

std::vector<LogLine> read_all(LogCursor& cursor) {
    std::vector<LogLine> lines;
    while (auto line = cursor.next()) lines.push_back(std::move(*line));
    return lines;
}

std::vector<UnitLine> read_all(MergedCursor& cursor) {
    std::vector<UnitLine> lines;
    while (auto line = cursor.next()) lines.push_back(std::move(*line));
    return lines;
}

std::vector<LogLine> matching(const std::vector<LogLine>& lines, const LogQuery& query) {
    std::vector<LogLine> out;
    std::copy_if(lines.begin(), lines.end(), std::back_inserter(out),
                 [&](const LogLine& line) { return matches(line, query); });
    return out;
}

uint64_t inode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
}

// A field of /proc/self/status in KiB ("VmRSS", "VmHWM"); -1 when it is missing.
long status_kib(const std::string& field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.compare(0, field.size() + 1, field + ":") == 0)
            return std::stol(line.substr(field.size() + 1));
    return -1;
}

// Resets VmHWM to the current RSS (Linux 4.0 and later); false when the kernel does not allow it.
bool reset_peak_rss() {
    const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool done = ::write(fd, "5", 1) == 1;
    ::close(fd);
    return done;
}

}  // namespace

TEST_CASE("a cursor gives what read_log gives, across rotated files and with filters", "[logs]") {
    TempDir dir;
    // 200k lines in 4 files: two runs, stdout and stderr, a clock that goes back an hour for a while (so
    // lines past `until` are followed by lines before it again), lines without the format, and an incomplete
    // last line.
    constexpr int kLines = 200'000;
    std::vector<LogLine> all;
    std::string text[4];
    for (int i = 0; i < kLines; ++i) {
        LogLine line =
            numbered(i, i < 120'000 ? kInvocationA : kInvocationB, i % 3 == 0 ? "stderr" : "stdout");
        if (i >= 90'000 && i < 100'000) line.time_usec -= int64_t{3600} * 1'000'000;
        std::string& file = text[i / 50'000];
        file += format(line);
        if (i % 997 == 0) file += "not a log line\n";
        all.push_back(std::move(line));
    }
    write_file(dir.file("current.3"), text[0]);
    write_file(dir.file("current.2"), text[1]);
    write_file(dir.file("current.1"), text[2]);
    const std::string partial = format(numbered(kLines)).substr(0, 40);
    write_file(dir.file("current"), text[3] + partial);

    std::vector<LogQuery> queries(5);
    queries[1].since_usec = numbered(40'000).time_usec;
    queries[1].until_usec = numbered(150'000).time_usec;
    queries[2].invocation = kInvocationB;
    queries[2].stream = "stderr";
    queries[3].until_usec = numbered(89'000).time_usec;  // also matches the lines of the clock gone back
    queries[3].tail = 10;                                // ignored by a cursor
    queries[4].invocation = "no-such-run";
    for (size_t q = 0; q < queries.size(); ++q) {
        INFO("query " << q);
        LogQuery whole = queries[q];
        whole.tail = 0;
        const LogRead read = read_log(dir.path(), whole);
        LogCursor cursor(dir.path(), queries[q]);
        const std::vector<LogLine> lines = read_all(cursor);
        CHECK(lines.size() == matching(all, whole).size());
        CHECK(lines == matching(all, whole));
        CHECK(lines == read.lines);
        CHECK(cursor.end() == read.end);
        CHECK(cursor.end() == LogPosition{inode_of(dir.file("current")), text[3].size()});
        CHECK_FALSE(cursor.next());  // and stays at its end
    }
}

TEST_CASE("a cursor of a missing or empty folder ends at once, with no current", "[logs]") {
    TempDir dir;
    for (const std::string& path : {dir.file("missing"), dir.path()}) {
        LogCursor cursor(path, LogQuery{});
        CHECK_FALSE(cursor.next());
        CHECK(cursor.end() == LogPosition{});
    }
    write_file(dir.file("current.1"), numbered_text(0, 3));  // `current` between its rename and creation
    LogCursor cursor(dir.path(), LogQuery{});
    CHECK(read_all(cursor) == numbered_lines(0, 3));
    CHECK(cursor.end() == LogPosition{});
}

TEST_CASE("a cursor reads the files it opened even if the log rotates meanwhile", "[logs]") {
    TempDir dir;
    ExecWriter writer(dir.path(), 2);
    writer.write_lines(0, 10);
    writer.rotate();
    writer.write_lines(10, 20);
    const uint64_t current = inode_of(dir.file("current"));
    LogCursor cursor(dir.path(), LogQuery{});
    CHECK(cursor.next() == numbered(0));

    // Two rotations: the file of lines 0-9 is gone, the one of 10-19 is now current.2.
    writer.rotate();
    writer.write_lines(20, 30);
    writer.rotate();
    writer.write_lines(30, 40);
    std::vector<LogLine> lines = {numbered(0)};
    for (LogLine& line : read_all(cursor)) lines.push_back(std::move(line));
    CHECK(lines == numbered_lines(0, 20));
    CHECK(cursor.end() == LogPosition{current, numbered_text(10, 20).size()});

    // A follower goes on from there with what came after.
    LogFollower follower(dir.path(), cursor.end());
    REQUIRE(follower.start());
    CHECK(follow(follower, 20) == numbered_lines(20, 40));
}

TEST_CASE("a merged cursor gives what merge_by_time gives", "[logs]") {
    TempDir dir;
    // Four units with times in a small range (many ties across and within units), clocks that sometimes go
    // back, one empty unit and one without a folder.
    std::mt19937 random(11);
    const std::vector<std::string> names = {"a.service", "b.service",       "empty.service",
                                            "c.service", "missing.service", "d.service"};
    for (const std::string& name : names) {
        if (name == "missing.service") continue;
        std::filesystem::create_directory(dir.file(name));
        if (name == "empty.service") continue;
        std::string files[2];
        int64_t time = kBaseUsec;
        for (int i = 0; i < 3000; ++i) {
            time += random() % 10 == 0 ? -int64_t(random() % 5) : int64_t(random() % 3);
            files[i < 1000 ? 0 : 1] +=
                format(LogLine{time, "stdout", kInvocationA, name + " " + std::to_string(i)});
        }
        write_file(dir.file(name + "/current.1"), files[0]);
        write_file(dir.file(name + "/current"), files[1]);
    }

    for (const bool filtered : {false, true}) {
        INFO("filtered " << filtered);
        LogQuery query;
        if (filtered) query.since_usec = kBaseUsec + 500;
        std::vector<std::pair<std::string, std::vector<LogLine>>> per_unit;
        std::vector<LogPosition> ends;
        std::vector<std::pair<std::string, std::unique_ptr<LogCursor>>> cursors;
        for (const std::string& name : names) {
            LogRead read = read_log(dir.file(name), query);
            per_unit.emplace_back(name, std::move(read.lines));
            ends.push_back(read.end);
            cursors.emplace_back(name, std::make_unique<LogCursor>(dir.file(name), query));
        }
        const std::vector<UnitLine> expected = merge_by_time(per_unit);
        REQUIRE(expected.size() > 5'000);
        MergedCursor merged(std::move(cursors));
        CHECK(read_all(merged) == expected);
        for (size_t i = 0; i < names.size(); ++i) CHECK(merged.end(i) == ends[i]);
    }

    MergedCursor none({});
    CHECK_FALSE(none.next());
}

TEST_CASE("a cursor reads a 50 MB log holding one block, not the log", "[logs]") {
    TempDir dir;
    // 5 files of 10 MB, written a line at a time so that the test itself holds none of it.
    constexpr size_t kFileBytes = 10 * 1024 * 1024;
    const std::string text(100, 'x');
    int lines = 0;
    uint64_t bytes = 0;
    for (const char* name : {"current.4", "current.3", "current.2", "current.1", "current"}) {
        std::ofstream out(dir.file(name), std::ios::binary);
        for (size_t size = 0; size < kFileBytes; ++lines) {
            LogLine line = numbered(lines);
            line.text += text;
            const std::string formatted = format(line);
            out << formatted;
            size += formatted.size();
            bytes += formatted.size();
        }
        REQUIRE(out.good());
    }

    const bool peak_reset = reset_peak_rss();
    const long rss_before = status_kib("VmRSS");
    size_t max_buffered = 0;
    int count = 0;
    bool in_order = true;
    {
        LogCursor cursor(dir.path(), LogQuery{});
        while (const auto line = cursor.next()) {
            in_order = in_order && line->time_usec == numbered(count).time_usec;
            ++count;
            max_buffered = std::max(max_buffered, cursor.buffered_bytes());
        }
        CHECK(cursor.end() ==
              LogPosition{inode_of(dir.file("current")), std::filesystem::file_size(dir.file("current"))});
    }
    const long rss_after = status_kib("VmRSS");
    const long peak = status_kib("VmHWM");
    INFO(bytes << " bytes, " << count << " lines; buffer at most " << max_buffered << " bytes; VmRSS "
               << rss_before << " KiB before, " << rss_after << " KiB after, peak " << peak
               << " KiB (reset: " << peak_reset << ")");
    CHECK(count == lines);
    CHECK(in_order);
    CHECK(max_buffered < 1024 * 1024);
    REQUIRE(rss_before > 0);
    CHECK(rss_after - rss_before < 8 * 1024);
    if (peak_reset) CHECK(peak - rss_before < 8 * 1024);
}
