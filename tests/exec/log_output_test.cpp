#include "exec/log_output.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "exec_test_support.h"

using gitvisor::exec::format_timestamp;
using gitvisor::exec::kMaxLineBytes;
using gitvisor::exec::LineSplitter;
using gitvisor::exec::LogFile;

namespace {

struct Collect {
    std::vector<std::string>* lines;
    void operator()(std::string_view line) const { lines->emplace_back(line); }
};

}  // namespace

TEST_CASE("log output: timestamps are RFC 3339 UTC with microseconds") {
    CHECK(format_timestamp(0) == "1970-01-01T00:00:00.000000Z");
    // 2026-11-25T13:20:01.123456Z
    CHECK(format_timestamp(1795612801123456) == "2026-11-25T13:20:01.123456Z");
    CHECK(format_timestamp(951782400000001) == "2000-02-29T00:00:00.000001Z");
}

TEST_CASE("log output: lines are split at newlines, across reads") {
    std::vector<std::string> lines;
    LineSplitter splitter;
    splitter.feed("one\ntw", Collect{&lines});
    CHECK(lines == std::vector<std::string>{"one"});
    splitter.feed("o\n\nthr", Collect{&lines});
    CHECK(lines == std::vector<std::string>{"one", "two", ""});
    CHECK_FALSE(splitter.empty());
    splitter.feed("ee", Collect{&lines});
    // The partial last line comes out when the stream ends.
    splitter.finish(Collect{&lines});
    CHECK(lines == std::vector<std::string>{"one", "two", "", "three"});
    CHECK(splitter.empty());
    splitter.finish(Collect{&lines});
    CHECK(lines.size() == 4);
}

TEST_CASE("log output: a line longer than 64 KiB is cut into pieces") {
    std::vector<std::string> lines;
    LineSplitter splitter;
    const std::string long_line(kMaxLineBytes * 2 + 10, 'x');
    splitter.feed(long_line + "\nnext\n", Collect{&lines});
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].size() == kMaxLineBytes);
    CHECK(lines[1].size() == kMaxLineBytes);
    CHECK(lines[2] == std::string(10, 'x'));
    CHECK(lines[3] == "next");

    // The same, fed in small reads: the pieces are the same.
    lines.clear();
    const std::string text = long_line + "\nnext\n";
    for (size_t i = 0; i < text.size(); i += 1000)
        splitter.feed(std::string_view(text).substr(i, 1000), Collect{&lines});
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].size() == kMaxLineBytes);
    CHECK(lines[1].size() == kMaxLineBytes);
    CHECK(lines[2].size() == 10);
    CHECK(lines[3] == "next");

    // Exactly 64 KiB is one line, with no empty piece after it.
    lines.clear();
    splitter.feed(std::string(kMaxLineBytes, 'y'), Collect{&lines});
    CHECK(lines.empty());
    splitter.feed("\n", Collect{&lines});
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].size() == kMaxLineBytes);
}

TEST_CASE("log output: the log file gets one formatted line per line") {
    exec_test::TempDir dir;
    LogFile log;
    REQUIRE(log.open(dir.file("logs/unit/current"), 0, 4));
    log.write_line("stdout", "0123456789abcdef0123456789abcdef", "hello world", 1795612801123456);
    log.write_line("stderr", "0123456789abcdef0123456789abcdef", "", 1795612801123457);
    CHECK(exec_test::read_file(dir.file("logs/unit/current")) ==
          "2026-11-25T13:20:01.123456Z stdout 0123456789abcdef0123456789abcdef hello world\n"
          "2026-11-25T13:20:01.123457Z stderr 0123456789abcdef0123456789abcdef \n");
    CHECK(log.dropped_lines() == 0);
}

TEST_CASE("log output: the log file rotates past its size and keeps N old files") {
    exec_test::TempDir dir;
    LogFile log;
    // Each line is 27 + 1 + 6 + 1 + 2 + 1 + 10 + 1 = 49 bytes: two fit in 100.
    REQUIRE(log.open(dir.file("current"), 100, 2));
    for (int i = 0; i < 7; ++i) log.write_line("stdout", "id", "line " + std::to_string(i) + "....", 0);
    const auto lines = [&](const std::string& name) {
        return exec_test::lines_of(exec_test::read_file(dir.file(name)));
    };
    REQUIRE(lines("current").size() == 1);
    CHECK(lines("current")[0].ends_with("line 6...."));
    REQUIRE(lines("current.1").size() == 2);
    CHECK(lines("current.1")[0].ends_with("line 4...."));
    REQUIRE(lines("current.2").size() == 2);
    CHECK(lines("current.2")[0].ends_with("line 2...."));
    CHECK_FALSE(std::filesystem::exists(dir.file("current.3")));
}

TEST_CASE("log output: an empty path drops everything") {
    LogFile log;
    REQUIRE(log.open("", 0, 0));
    log.write_line("stdout", "id", "nowhere", 0);
    CHECK(log.dropped_lines() == 0);
}
