#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "unitfile/values.h"
#include "values_test_support.h"

using namespace gitvisor::unitfile;
using namespace gitvisor::unitfile::testing;

namespace {

std::string span_error(std::string_view text) { return rejected(parse_timespan(text), text); }

}  // namespace

// ---- Time spans (§6-§8) ------------------------------------------------------------------------------

TEST_CASE("time spans from SYSTEMD-SYNTAX.md section 8", "[values]") {
    CHECK(span("5min 20s") == 320'000'000);
    CHECK(span("2min 200ms") == 2 * kMin + 200 * kMsec);
    CHECK(span("1h30m15s") == kHour + 30 * kMin + 15 * kSec);
    CHECK(span("5 min") == 5 * kMin);
    CHECK(span("1h 30") == 3630 * kSec);
    CHECK(span("30 1h") == 3630 * kSec);
    CHECK(span("1.5h") == 90 * kMin);
    CHECK(span(".5s") == 500 * kMsec);
    CHECK(span("1.5") == 1'500'000);
    CHECK(span("0.0000001s") == 0);
    CHECK(span("infinity") == kInfinity);
    CHECK(span("1m") == kMin);
    CHECK(span("1M") == kMonth);
}

TEST_CASE("time spans in the settings of sections 6 and 7", "[values]") {
    CHECK(span("100ms") == 100 * kMsec);  // RestartSec= default
    CHECK(span("0") == 0);                // RestartSec=0
    CHECK(span("10s") == 10 * kSec);      // DefaultStartLimitIntervalSec=
    CHECK(span("90s") == 90 * kSec);      // DefaultTimeoutStartSec=
    CHECK(span("7") == 7 * kSec);         // TimeoutStopSec=7
    CHECK(format_timespan(span("7")) == "7s");
    CHECK(format_timespan(span("5min 20s")) == "5min 20s");
}

TEST_CASE("time spans accept every unit spelling", "[values]") {
    struct Case {
        const char* unit;
        uint64_t usec;
    };
    const std::vector<Case> cases = {{"usec", 1},
                                     {"us", 1},
                                     {"\xc2\xb5s", 1} /* µs, MICRO SIGN */,
                                     {"\xce\xbcs", 1} /* μs, GREEK MU */,
                                     {"msec", kMsec},
                                     {"ms", kMsec},
                                     {"seconds", kSec},
                                     {"second", kSec},
                                     {"sec", kSec},
                                     {"s", kSec},
                                     {"minutes", kMin},
                                     {"minute", kMin},
                                     {"min", kMin},
                                     {"m", kMin},
                                     {"hours", kHour},
                                     {"hour", kHour},
                                     {"hr", kHour},
                                     {"h", kHour},
                                     {"days", kDay},
                                     {"day", kDay},
                                     {"d", kDay},
                                     {"weeks", kWeek},
                                     {"week", kWeek},
                                     {"w", kWeek},
                                     {"months", kMonth},
                                     {"month", kMonth},
                                     {"M", kMonth},
                                     {"years", kYear},
                                     {"year", kYear},
                                     {"y", kYear}};
    for (const Case& c : cases) {
        const std::string unit = c.unit;
        CHECK(span("3" + unit) == 3 * c.usec);
        CHECK(span("3 " + unit) == 3 * c.usec);
        CHECK(span("  3\t" + unit + "  ") == 3 * c.usec);
    }
    CHECK(kMonth == 30 * kDay + 10 * kHour + 30 * kMin);  // 30.44 days
    CHECK(kYear == 365 * kDay + 6 * kHour);               // 365.25 days
}

TEST_CASE("time span items are added up", "[values]") {
    CHECK(span("1y 2M 3w 4d 5h 6min 7s 8ms 9us") ==
          kYear + 2 * kMonth + 3 * kWeek + 4 * kDay + 5 * kHour + 6 * kMin + 7 * kSec + 8 * kMsec + 9);
    CHECK(span("1d2h3m4s5ms6us") == kDay + 2 * kHour + 3 * kMin + 4 * kSec + 5 * kMsec + 6);
    CHECK(span("5s 5s") == 10 * kSec);
    CHECK(span("1min 90") == 150 * kSec);
    CHECK(span("12.34 .56") == 12'900'000);
    CHECK(span("1 hour 30 minutes") == 90 * kMin);
    CHECK(span("2 days 12 hours") == 60 * kHour);
    CHECK(span("1s500ms") == 1'500'000);
    CHECK(span("5s+3s") == 8 * kSec);  // a '+' may lead any number, as in systemd
    CHECK(span("+5s") == 5 * kSec);
    CHECK(span("007s") == 7 * kSec);  // time spans are always decimal
}

TEST_CASE("time span fractions round down to the microsecond", "[values]") {
    CHECK(span("1.5M") == 3'944'700'000'000);
    CHECK(span("0.5y") == kYear / 2);
    CHECK(span("1.25min") == 75 * kSec);
    CHECK(span("2.5 days") == 60 * kHour);
    CHECK(span("0.001s") == 1000);
    CHECK(span("0.000001s") == 1);
    CHECK(span("0.0000019s") == 1);
    CHECK(span("1.9us") == 1);
    CHECK(span("1.999999999ms") == 1999);
    CHECK(span("0.1") == 100 * kMsec);
    CHECK(span("1.0") == kSec);
    CHECK(span(".5") == 500 * kMsec);
    CHECK(span("3.14159265358979323846h") == 11'309'733'549);
}

TEST_CASE("a bare number counts in the caller's unit", "[values]") {
    CHECK(span("5", 1) == 5);  // LimitRTTIME= counts in µs
    CHECK(span("5s", 1) == 5 * kSec);
    CHECK(span("1.5", 1) == 1);
    CHECK(span("250", kMsec) == 250 * kMsec);
    CHECK(span("1h 30", kMin) == 90 * kMin);
    CHECK(span("infinity", 1) == kInfinity);
}

TEST_CASE("infinity is lowercase and stands alone", "[values]") {
    CHECK(span(" infinity ") == kInfinity);
    CHECK(span_error("Infinity") == "'infinity' must be written in lowercase");
    CHECK(span_error("INFINITY") == "'infinity' must be written in lowercase");
    CHECK(span_error("infinityx") == "unexpected text after 'infinity'");
    CHECK(span_error("infinity 5s") == "unexpected text after 'infinity'");
    CHECK(span_error("5s infinity") == "'infinity' must stand alone");
    CHECK(span_error("5s Infinity") == "'infinity' must stand alone");
    CHECK(span_error("5 infinity") == "unknown time unit 'infinity' (use us, ms, s, min, h, d, w, M or y)");
}

TEST_CASE("time spans rejected by systemd are rejected with a hint", "[values]") {
    CHECK(span_error("1.s") == "expected a digit after '.' (write '1s' or '1.5s', not '1.s')");
    CHECK(span_error("10S") == "unknown time unit 'S' (units are case-sensitive: write 's')");
    CHECK(span_error("1ns") == "unknown time unit 'ns' (the smallest unit is 'us')");
    CHECK(span_error("-1") == "a time span must not be negative");
    CHECK(span_error("1,5s") == "unexpected ',' (use '.' for a fraction and spaces between items)");
    CHECK(span_error("5s,") == "unexpected ',' (use '.' for a fraction and spaces between items)");
    CHECK(span_error("") == "empty time span (write e.g. '5s', '1min 30s' or 'infinity')");
    CHECK(span_error("   ") == "empty time span (write e.g. '5s', '1min 30s' or 'infinity')");
}

TEST_CASE("malformed time spans", "[values]") {
    CHECK(span_error("-0") == "a time span must not be negative");
    CHECK(span_error("5s -1s") == "a time span must not be negative");
    CHECK(span_error("1nsec") == "unknown time unit 'nsec' (the smallest unit is 'us')");
    CHECK(span_error("5 MIN") == "unknown time unit 'MIN' (units are case-sensitive: write 'min')");
    CHECK(span_error("1H") == "unknown time unit 'H' (units are case-sensitive: write 'h')");
    CHECK(span_error("1mins") == "unknown time unit 'mins' (use us, ms, s, min, h, d, w, M or y)");
    CHECK(span_error("1secs") == "unknown time unit 'secs' (use us, ms, s, min, h, d, w, M or y)");
    CHECK(span_error("5 x") == "unknown time unit 'x' (use us, ms, s, min, h, d, w, M or y)");
    CHECK(span_error("5s x") == "expected a number before 'x'");
    CHECK(span_error("s") == "expected a number before 's'");
    CHECK(span_error("forever") == "expected a number before 'forever'");
    CHECK(span_error("12.34.56") == "unexpected '.' in time span");
    CHECK(span_error("5+3s") == "unexpected '+' in time span");
    CHECK(span_error("+.5s") == "expected a digit after '+'");
    CHECK(span_error("+") == "expected a digit after '+'");
    CHECK(span_error(".") == "expected a digit after '.' (write '1s' or '1.5s', not '1.s')");
    CHECK(span_error("3. 1") == "expected a digit after '.' (write '1s' or '1.5s', not '1.s')");
    CHECK(span_error("3.sec") == "expected a digit after '.' (write '1s' or '1.5s', not '1.s')");
    CHECK(span_error("5s;") == "unexpected ';' in time span");
    CHECK(span_error("1:30") == "unexpected ':' in time span");
}

TEST_CASE("huge time spans fail as too large instead of wrapping", "[values]") {
    CHECK(span("18446744073709551614us") == kInfinity - 1);
    CHECK(span("584542y 2w 2d 20h 1min 49s 551ms 614us") == kInfinity - 1);
    CHECK(span_error("18446744073709551615us") == "value too large");
    CHECK(span_error("584542y 2w 2d 20h 1min 49s 551ms 615us") == "value too large");
    CHECK(span_error("18446744073709551616us") == "value too large");
    CHECK(span_error("584543y") == "value too large");
    CHECK(span_error("99999999999999999999") == "value too large");
    CHECK(span_error("18446744073709551614us 1us") == "value too large");
    CHECK(span_error(std::string(10'000, '9') + "s") == "value too large");
    CHECK(span(std::string("0.") + std::string(10'000, '9') + "s") == kSec - 1);
}

TEST_CASE("format_timespan prints systemd's style", "[values]") {
    CHECK(format_timespan(0) == "0");
    CHECK(format_timespan(kInfinity) == "infinity");
    CHECK(format_timespan(1) == "1us");
    CHECK(format_timespan(100 * kMsec) == "100ms");
    CHECK(format_timespan(kSec) == "1s");
    CHECK(format_timespan(320'000'000) == "5min 20s");
    CHECK(format_timespan(90 * kMin) == "1h 30min");
    CHECK(format_timespan(3630 * kSec) == "1h 30s");
    CHECK(format_timespan(2 * kDay + 3 * kHour) == "2d 3h");
    CHECK(format_timespan(kWeek) == "1w");
    CHECK(format_timespan(kMonth) == "1month");
    CHECK(format_timespan(3 * kMonth) == "3month");
    CHECK(format_timespan(kYear) == "1y");
    CHECK(format_timespan(1'234'567) == "1s 234ms 567us");
    CHECK(format_timespan(kYear + kMonth + kWeek + kDay + kHour + kMin + kSec + kMsec + 1) ==
          "1y 1month 1w 1d 1h 1min 1s 1ms 1us");
    CHECK(format_timespan(30 * kDay) == "4w 2d");
    CHECK(format_timespan(365 * kDay) == "11month 4w 2d 4h 30min");
    CHECK(format_timespan(kInfinity - 1) == "584542y 2w 2d 20h 1min 49s 551ms 614us");
}

TEST_CASE("parse_timespan reads back every format_timespan output", "[values]") {
    std::vector<uint64_t> values = {0,
                                    1,
                                    999,
                                    1000,
                                    1'234'567,
                                    59'999'999,
                                    60 * kSec,
                                    kHour - 1,
                                    kDay + 1,
                                    kWeek - 1,
                                    kMonth - 1,
                                    kMonth,
                                    kMonth + 1,
                                    kYear - 1,
                                    kYear,
                                    kYear + 1,
                                    kInfinity - 1,
                                    kInfinity - 2,
                                    uint64_t{1} << 63,
                                    (uint64_t{1} << 63) - 1,
                                    584'542 * kYear,
                                    kInfinity};
    for (uint64_t unit : {uint64_t{1}, kMsec, kSec, kMin, kHour, kDay, kWeek, kMonth, kYear}) {
        for (uint64_t n : {1, 2, 7, 59, 61, 1000, 123'456}) {
            values.push_back(n * unit);
            values.push_back(n * unit + 1);
            values.push_back(n * unit - 1);
        }
    }
    // A fixed pseudo-random sequence over every magnitude (xorshift64, so the test is reproducible).
    uint64_t state = 0x9e3779b97f4a7c15;
    for (int i = 0; i < 20'000; ++i) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        values.push_back(state >> (i % 64));
    }
    for (uint64_t usec : values) {
        const std::string text = format_timespan(usec);
        auto parsed = parse_timespan(text);
        INFO(usec << " formats as '" << text << "'");
        REQUIRE(parsed.has_value());
        CHECK(*parsed == usec);
    }
}
