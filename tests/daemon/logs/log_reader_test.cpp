#include "daemon/logs/log_reader.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "log_test_support.h"

using namespace gitvisor::daemon::logs;
using namespace gitvisor::daemon::logs::testing;

namespace {

uint64_t inode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
}

LogQuery tail(size_t n) {
    LogQuery query;
    query.tail = n;
    return query;
}

// A log of 4 files (current.3 oldest), 10 lines each: line 0 to 39.
void write_rotated_log(const TempDir& dir) {
    write_file(dir.file("current.3"), numbered_text(0, 10));
    write_file(dir.file("current.2"), numbered_text(10, 20));
    write_file(dir.file("current.1"), numbered_text(20, 30));
    write_file(dir.file("current"), numbered_text(30, 40));
}

}  // namespace

TEST_CASE("a missing folder or an empty one is an empty log", "[logs]") {
    TempDir dir;
    for (const std::string& path : {dir.file("missing"), dir.path()}) {
        for (size_t n : {0, 10}) {
            const LogRead read = read_log(path, tail(n));
            CHECK(read.lines.empty());
            CHECK(read.end == LogPosition{});
        }
        CHECK(log_invocations(path).empty());
    }
}

TEST_CASE("the rotated files are read oldest first, then current", "[logs]") {
    TempDir dir;
    write_rotated_log(dir);
    write_file(dir.file("current.tmp"), numbered_text(100, 101));  // not log files
    write_file(dir.file("current.01"), numbered_text(101, 102));
    write_file(dir.file("other"), numbered_text(102, 103));

    const LogRead read = read_log(dir.path(), LogQuery{});
    CHECK(read.lines == numbered_lines(0, 40));
    CHECK(read.end.inode == inode_of(dir.file("current")));
    CHECK(read.end.offset == numbered_text(30, 40).size());
}

TEST_CASE("missing files in the rotation are skipped, a high number is older", "[logs]") {
    TempDir dir;
    write_file(dir.file("current.12"), numbered_text(0, 5));
    write_file(dir.file("current.2"), numbered_text(5, 10));
    // No `current`: it is between its rename and its creation.
    const LogRead read = read_log(dir.path(), LogQuery{});
    CHECK(read.lines == numbered_lines(0, 10));
    CHECK(read.end == LogPosition{});
    CHECK(read_log(dir.path(), tail(7)).lines == numbered_lines(3, 10));
}

TEST_CASE("a tail spans files from the newest backwards", "[logs]") {
    TempDir dir;
    write_rotated_log(dir);
    CHECK(read_log(dir.path(), tail(1)).lines == numbered_lines(39, 40));
    CHECK(read_log(dir.path(), tail(10)).lines == numbered_lines(30, 40));
    CHECK(read_log(dir.path(), tail(25)).lines == numbered_lines(15, 40));
    CHECK(read_log(dir.path(), tail(40)).lines == numbered_lines(0, 40));
    CHECK(read_log(dir.path(), tail(1000)).lines == numbered_lines(0, 40));
    const LogRead read = read_log(dir.path(), tail(3));
    CHECK(read.end.inode == inode_of(dir.file("current")));
    CHECK(read.end.offset == numbered_text(30, 40).size());
}

TEST_CASE("an incomplete last line is left out, and where it starts is the end", "[logs]") {
    TempDir dir;
    const std::string complete = numbered_text(0, 5);
    const std::string partial = format(numbered(5));
    write_file(dir.file("current"), complete + partial.substr(0, partial.size() - 4));
    for (size_t n : {0, 2, 100}) {
        INFO("tail " << n);
        const LogRead read = read_log(dir.path(), tail(n));
        CHECK(read.lines == (n == 2 ? numbered_lines(3, 5) : numbered_lines(0, 5)));
        CHECK(read.end.offset == complete.size());
    }

    // Only a partial line: nothing, from offset 0.
    write_file(dir.file("current"), partial.substr(0, 10));
    for (size_t n : {0, 2}) {
        const LogRead read = read_log(dir.path(), tail(n));
        CHECK(read.lines.empty());
        CHECK(read.end.offset == 0);
        CHECK(read.end.inode == inode_of(dir.file("current")));
    }
}

TEST_CASE("lines without the format are skipped", "[logs]") {
    TempDir dir;
    write_file(dir.file("current"), format(numbered(0)) + "garbage\n\n" + format(numbered(1)) +
                                        "2026-11-25T13:20:01Z stdout x y\n" + format(numbered(2)));
    CHECK(read_log(dir.path(), LogQuery{}).lines == numbered_lines(0, 3));
    CHECK(read_log(dir.path(), tail(2)).lines == numbered_lines(1, 3));
    CHECK(read_log(dir.path(), tail(3)).lines == numbered_lines(0, 3));
}

TEST_CASE("a tail on a big file returns its last lines", "[logs]") {
    TempDir dir;
    constexpr int kLines = 200'000;
    write_file(dir.file("current"), numbered_text(0, kLines));
    const auto size = static_cast<uint64_t>(std::filesystem::file_size(dir.file("current")));

    for (size_t n : {1, 10, 1000, 5000}) {
        INFO("tail " << n);
        const LogRead read = read_log(dir.path(), tail(n));
        CHECK(read.lines == numbered_lines(kLines - static_cast<int>(n), kLines));
        CHECK(read.end.offset == size);
    }
    const LogRead all = read_log(dir.path(), LogQuery{});
    CHECK(all.lines.size() == static_cast<size_t>(kLines));
    CHECK(all.lines.back() == numbered(kLines - 1));
    CHECK(all.end.offset == size);
}

TEST_CASE("a tail of lines longer than a block agrees with a full read", "[logs]") {
    TempDir dir;
    // Lengths from empty to several 64 KiB blocks, so lines start and end anywhere in a block.
    std::mt19937 random(7);
    std::vector<LogLine> expected;
    std::string text;
    for (int i = 0; i < 120; ++i) {
        LogLine line = numbered(i);
        const size_t length = i % 10 == 0 ? 150'000 + random() % 100'000 : random() % 3000;
        line.text = std::string(length, static_cast<char>('a' + i % 26));
        text += format(line);
        expected.push_back(line);
    }
    write_file(dir.file("current"), text);

    CHECK(read_log(dir.path(), LogQuery{}).lines == expected);
    for (size_t n : {1, 2, 9, 10, 11, 55, 119, 120, 500}) {
        INFO("tail " << n);
        const size_t take = std::min(n, expected.size());
        CHECK(read_log(dir.path(), tail(n)).lines ==
              std::vector<LogLine>(expected.end() - static_cast<std::ptrdiff_t>(take), expected.end()));
    }
}

TEST_CASE("a line longer than a MiB is skipped, the lines around it are not", "[logs]") {
    TempDir dir;
    LogLine huge = numbered(1);
    huge.text = std::string(3 * 1024 * 1024, 'h');
    write_file(dir.file("current"), format(numbered(0)) + format(huge) + format(numbered(2)));
    const std::vector<LogLine> expected = {numbered(0), numbered(2)};
    CHECK(read_log(dir.path(), LogQuery{}).lines == expected);
    CHECK(read_log(dir.path(), tail(2)).lines == expected);
    CHECK(read_log(dir.path(), tail(5)).lines == expected);
}

TEST_CASE("since, until, invocation and stream select lines, with or without a tail", "[logs]") {
    TempDir dir;
    std::string first, second;
    for (int i = 0; i < 10; ++i) first += format(numbered(i, kInvocationA, i % 2 ? "stderr" : "stdout"));
    for (int i = 10; i < 20; ++i) second += format(numbered(i, kInvocationB, i % 2 ? "stderr" : "stdout"));
    write_file(dir.file("current.1"), first);
    write_file(dir.file("current"), second);
    const auto texts = [&](const LogQuery& query) {
        std::vector<std::string> out;
        for (const LogLine& line : read_log(dir.path(), query).lines) out.push_back(line.text);
        return out;
    };
    const auto names = [](std::vector<int> numbers) {
        std::vector<std::string> out;
        for (int i : numbers) out.push_back("line " + std::to_string(i));
        return out;
    };

    LogQuery query;
    query.since_usec = numbered(7).time_usec;
    query.until_usec = numbered(12).time_usec;
    CHECK(texts(query) == names({7, 8, 9, 10, 11, 12}));
    query.tail = 4;
    CHECK(texts(query) == names({9, 10, 11, 12}));
    query.tail = 100;
    CHECK(texts(query) == names({7, 8, 9, 10, 11, 12}));

    query = LogQuery{};
    query.since_usec = numbered(7).time_usec + 1;  // strictly after line 7
    CHECK(texts(query) == names({8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}));

    query = LogQuery{};
    query.invocation = kInvocationA;
    CHECK(texts(query) == names({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    query.tail = 3;
    CHECK(texts(query) == names({7, 8, 9}));

    query = LogQuery{};
    query.stream = "stderr";
    query.invocation = kInvocationB;
    CHECK(texts(query) == names({11, 13, 15, 17, 19}));
    query.tail = 2;
    CHECK(texts(query) == names({17, 19}));

    query = LogQuery{};
    query.invocation = "no-such-run";
    query.tail = 5;
    CHECK(texts(query).empty());
}

TEST_CASE("the invocations come in order of first appearance", "[logs]") {
    TempDir dir;
    write_file(dir.file("current.2"), numbered_text(0, 3, "run-1") + numbered_text(3, 5, "run-2"));
    write_file(dir.file("current.1"), numbered_text(5, 7, "run-2") + numbered_text(7, 8, "run-3"));
    write_file(dir.file("current"), numbered_text(8, 9, "run-1") + numbered_text(9, 12, "run-4"));
    CHECK(log_invocations(dir.path()) == std::vector<std::string>{"run-1", "run-2", "run-3", "run-4"});
}

TEST_CASE("several units merge by time, ties in unit order then line order", "[logs]") {
    const auto at = [](int64_t time, const std::string& text) {
        return LogLine{time, "stdout", "inv", text};
    };
    const std::vector<std::pair<std::string, std::vector<LogLine>>> per_unit = {
        {"a.service", {at(1, "a1"), at(5, "a5"), at(5, "a5b"), at(9, "a9")}},
        {"empty.service", {}},
        {"b.service", {at(2, "b2"), at(5, "b5"), at(6, "b6")}},
        {"c.service", {at(0, "c0"), at(5, "c5"), at(100, "c100")}},
    };
    std::vector<std::string> order;
    for (const UnitLine& line : merge_by_time(per_unit)) order.push_back(line.unit + ":" + line.line.text);
    CHECK(order == std::vector<std::string>{"c.service:c0", "a.service:a1", "b.service:b2", "a.service:a5",
                                            "a.service:a5b", "b.service:b5", "c.service:c5", "b.service:b6",
                                            "a.service:a9", "c.service:c100"});
    CHECK(merge_by_time({}).empty());
}

TEST_CASE("a unit whose clock went back keeps its own order in a merge", "[logs]") {
    const auto at = [](int64_t time, const std::string& text) {
        return LogLine{time, "stdout", "inv", text};
    };
    const std::vector<std::pair<std::string, std::vector<LogLine>>> per_unit = {
        {"a", {at(10, "a10"), at(3, "a3")}},
        {"b", {at(5, "b5")}},
    };
    std::vector<std::string> order;
    for (const UnitLine& line : merge_by_time(per_unit)) order.push_back(line.line.text);
    CHECK(order == std::vector<std::string>{"b5", "a10", "a3"});
}
