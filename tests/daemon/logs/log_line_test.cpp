#include "daemon/logs/log_line.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "log_test_support.h"

using namespace gitvisor::daemon::logs;
using namespace gitvisor::daemon::logs::testing;

TEST_CASE("a log line gives its time in microseconds, stream, invocation and text", "[logs]") {
    const auto line =
        parse_log_line("2026-11-25T13:20:01.123456Z stdout 0123456789abcdef0123456789abcdef hello");
    REQUIRE(line);
    CHECK(line->time_usec == 1795612801123456);
    CHECK(line->stream == "stdout");
    CHECK(line->invocation == "0123456789abcdef0123456789abcdef");
    CHECK(line->text == "hello");
}

TEST_CASE("timestamps are read as UTC, whatever TZ says", "[logs]") {
    const char* saved = std::getenv("TZ");
    const std::string old_tz = saved ? saved : "";
    ::setenv("TZ", "America/New_York", 1);
    ::tzset();
    const auto at = [](const std::string& ts) {
        const auto line = parse_log_line(ts + " stderr x t");
        REQUIRE(line);
        return line->time_usec;
    };
    CHECK(at("1970-01-01T00:00:00.000000Z") == 0);
    CHECK(at("1970-01-01T00:00:00.000001Z") == 1);
    CHECK(at("2000-02-29T23:59:59.999999Z") == 951868799999999);
    CHECK(at("2024-12-31T23:59:59.000000Z") == 1735689599000000);
    CHECK(at("1969-12-31T23:59:59.500000Z") == -500000);
    // The reader's arithmetic agrees with gmtime_r every week or so until 2103, leap years included.
    int disagreements = 0;
    for (int64_t usec = 0; usec < int64_t{4'200'000'000} * 1'000'000; usec += int64_t{86'399'123'457} * 7) {
        if (at(timestamp(usec)) != usec) ++disagreements;
    }
    CHECK(disagreements == 0);
    if (saved) {
        ::setenv("TZ", old_tz.c_str(), 1);
    } else {
        ::unsetenv("TZ");
    }
    ::tzset();
}

TEST_CASE("the text may be empty, hold spaces and bytes that are not UTF-8", "[logs]") {
    const std::string head = "2026-11-25T13:20:01.000000Z stderr abc ";
    auto line = parse_log_line(head);
    REQUIRE(line);
    CHECK(line->text.empty());
    CHECK(line->stream == "stderr");

    line = parse_log_line(head + "  two  spaces  and a tab\t");
    REQUIRE(line);
    CHECK(line->text == "  two  spaces  and a tab\t");

    line = parse_log_line(head + "\xff\xfe\x80 bytes\r");
    REQUIRE(line);
    CHECK(line->text == "\xff\xfe\x80 bytes\r");
}

TEST_CASE("any stream word of a-z and dashes is a stream, any word an invocation", "[logs]") {
    auto line = parse_log_line("2026-11-25T13:20:01.000000Z marker inv-1 -- deployed 1a2b3c4: fix --");
    REQUIRE(line);
    CHECK(line->stream == "marker");
    CHECK(line->invocation == "inv-1");
    CHECK(line->text == "-- deployed 1a2b3c4: fix --");

    line = parse_log_line("2026-11-25T13:20:01.000000Z exec-notice X_Y.z t");
    REQUIRE(line);
    CHECK(line->stream == "exec-notice");
    CHECK(line->invocation == "X_Y.z");
}

TEST_CASE("lines without the format are refused", "[logs]") {
    const std::string good = "2026-11-25T13:20:01.123456Z stdout inv text";
    REQUIRE(parse_log_line(good));
    for (const std::string bad : {
             "",
             "hello world",
             "2026-11-25T13:20:01.123456Z",                  // nothing after the time
             "2026-11-25T13:20:01.123456Z stdout",           // no invocation
             "2026-11-25T13:20:01.123456Z stdout inv",       // no space before the text
             "2026-11-25T13:20:01.123456Z  inv text",        // empty stream
             "2026-11-25T13:20:01.123456Z stdout  text",     // empty invocation
             "2026-11-25T13:20:01.123456Z StdOut inv text",  // stream not in [a-z-]
             "2026-11-25T13:20:01.123456Z std1 inv text",
             "2026-11-25T13:20:01.123456 stdout inv text",   // no Z
             "2026-11-25 13:20:01.123456Z stdout inv text",  // no T
             "2026-11-25T13:20:01Z stdout inv text",         // no microseconds
             "2026-11-25T13:20:01.12345Z stdout inv text",
             "2026-13-25T13:20:01.123456Z stdout inv text",  // month 13
             "2026-00-25T13:20:01.123456Z stdout inv text",
             "2026-02-29T13:20:01.123456Z stdout inv text",  // not a leap year
             "2026-04-31T13:20:01.123456Z stdout inv text",
             "2026-11-00T13:20:01.123456Z stdout inv text",
             "2026-11-25T24:20:01.123456Z stdout inv text",
             "2026-11-25T13:60:01.123456Z stdout inv text",
             "2026-11-25T13:20:60.123456Z stdout inv text",
             "2026-11-25T13:2a:01.123456Z stdout inv text",
             "+026-11-25T13:20:01.123456Z stdout inv text",
             "2026-11-25T13:20:01.123456Zstdout inv text",
             "2026-11-25T13:20:01.123456Z stdout inv two\nlines",
         }) {
        INFO(bad);
        CHECK_FALSE(parse_log_line(bad));
    }
    CHECK(parse_log_line("2024-02-29T13:20:01.123456Z stdout inv text"));  // a leap year
}
