#include "unitfile/values.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

// Expected values come from SYSTEMD-SYNTAX.md §1.13 and §6-§10 and from systemd-analyze 252
// ("systemd-analyze timespan", and "systemd-analyze verify" for which values a unit file accepts).

using namespace gitvisor::unitfile;

namespace {

constexpr uint64_t kMsec = 1'000;
constexpr uint64_t kSec = 1'000'000;
constexpr uint64_t kMin = 60 * kSec;
constexpr uint64_t kHour = 60 * kMin;
constexpr uint64_t kDay = 24 * kHour;
constexpr uint64_t kWeek = 7 * kDay;
constexpr uint64_t kMonth = 2'629'800 * kSec;
constexpr uint64_t kYear = 31'557'600 * kSec;

constexpr uint64_t kKiB = uint64_t{1} << 10;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;
constexpr uint64_t kPiB = uint64_t{1} << 50;
constexpr uint64_t kEiB = uint64_t{1} << 60;

template <class T>
T accepted(const gitvisor::Result<T>& result, std::string_view text) {
    INFO("'" << text << "' was rejected: " << result.error());
    REQUIRE(result.has_value());
    return *result;
}

template <class T>
std::string rejected(const gitvisor::Result<T>& result, std::string_view text) {
    INFO("'" << text << "' was accepted");
    REQUIRE_FALSE(result.has_value());
    return result.error();
}

uint64_t span(std::string_view text, uint64_t bare_unit = kSec) {
    return accepted(parse_timespan(text, bare_unit), text);
}
std::string span_error(std::string_view text) { return rejected(parse_timespan(text), text); }

Limit limit_of(std::string_view text, bool allow_percent = true, bool allow_zero = false) {
    return accepted(parse_size(text, allow_percent, allow_zero), text);
}
uint64_t bytes(std::string_view text) {
    Limit limit = limit_of(text);
    REQUIRE(limit.kind == Limit::Kind::Value);
    return limit.value;
}
std::string size_error(std::string_view text, bool allow_percent = true, bool allow_zero = false) {
    return rejected(parse_size(text, allow_percent, allow_zero), text);
}

Limit value(uint64_t v) { return Limit{Limit::Kind::Value, v}; }
Limit percent(uint64_t permyriad) { return Limit{Limit::Kind::Percent, permyriad}; }
const Limit kNoLimit{Limit::Kind::Infinity, 0};

int signal(std::string_view text) { return accepted(parse_signal(text), text); }
std::string signal_error(std::string_view text) { return rejected(parse_signal(text), text); }

ExitStatusSet exit_set(std::string_view text) { return accepted(parse_exit_status_set(text), text); }

RLimit rlimit(std::string_view key, std::string_view text) { return accepted(parse_rlimit(key, text), text); }
std::string rlimit_error(std::string_view key, std::string_view text) {
    return rejected(parse_rlimit(key, text), text);
}

}  // namespace

// ---- Booleans (§1.13) --------------------------------------------------------------------------------

TEST_CASE("booleans accept every systemd spelling in any case", "[values]") {
    for (std::string_view text : {"1", "yes", "y", "true", "t", "on", "YES", "True", "Y", "T", "ON", "yEs"}) {
        CHECK(accepted(parse_bool(text), text) == true);
    }
    for (std::string_view text :
         {"0", "no", "n", "false", "f", "off", "NO", "False", "N", "F", "OFF", "oFf"}) {
        CHECK(accepted(parse_bool(text), text) == false);
    }
}

TEST_CASE("booleans reject other words", "[values]") {
    for (std::string_view text : {"2", "enable", "enabled", "", "yess", "of", "none", "-1", "01"}) {
        CHECK(rejected(parse_bool(text), text) == "expected a boolean (yes/no, true/false, on/off, 1/0)");
    }
}

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

// ---- Sizes and limits (§9) ---------------------------------------------------------------------------

TEST_CASE("sizes from SYSTEMD-SYNTAX.md section 9", "[values]") {
    CHECK(bytes("1G") == 1'073'741'824);
    CHECK(bytes("1.5G") == 1'610'612'736);
    CHECK(bytes("512K") == 524'288);
    CHECK(bytes("512") == 512);
    CHECK(bytes("1E") == kEiB);
    CHECK(bytes("1P") == kPiB);
    CHECK(bytes("1 G") == kGiB);
    CHECK(bytes("2T") == 2 * kTiB);
    CHECK(bytes("4M") == 4 * kMiB);
    CHECK(limit_of("50%") == percent(5000));
    CHECK(limit_of("10.5%") == percent(1050));
    CHECK(limit_of("infinity") == kNoLimit);
}

TEST_CASE("sizes rejected by systemd", "[values]") {
    const std::string suffixes = "size suffixes are K, M, G, T, P, E (base 1024)";
    CHECK(size_error("1g") == suffixes);
    CHECK(size_error("1GB") == suffixes);
    CHECK(size_error("1Gi") == suffixes);
    CHECK(size_error("1k") == suffixes);
    CHECK(size_error("1KiB") == suffixes);
    CHECK(size_error("1 x") == suffixes);
    CHECK(size_error("abc") == suffixes);
    CHECK(size_error("-1") == "a size must not be negative");
    CHECK(size_error("-0") == "a size must not be negative");
    CHECK(size_error("0") == "value out of range (must be more than 0)");  // MemoryMax=0
    CHECK(size_error("0K") == "value out of range (must be more than 0)");
    CHECK(size_error("") == "empty value (write e.g. '512M', '1G' or 'infinity')");
    CHECK(size_error("Infinity") == "'infinity' must be written in lowercase");
    CHECK(size_error(".5G") == "expected a digit before '.' (write '0.5G', not '.5G')");
    CHECK(size_error("1,5G") == "unexpected ',' in size");
    CHECK(size_error("0x10") == suffixes);  // sizes are always decimal
}

TEST_CASE("size fractions and parts", "[values]") {
    CHECK(bytes("0.5K") == 512);
    CHECK(bytes("1.3K") == 1331);  // 1331.2, rounded down
    CHECK(bytes("2.25M") == 2'359'296);
    CHECK(bytes("0.001G") == 1'073'741);
    CHECK(bytes("1.5") == 1);
    CHECK(bytes("10.M") == 10 * kMiB);
    CHECK(bytes("1.5 G") == 1'610'612'736);
    CHECK(bytes("1G 512M") == kGiB + 512 * kMiB);
    CHECK(bytes("1G512M") == kGiB + 512 * kMiB);
    CHECK(bytes("1T 1G 1M 1K 1") == kTiB + kGiB + kMiB + kKiB + 1);
    CHECK(bytes("512B") == 512);
    CHECK(bytes("1B 1") == 2);
    CHECK(bytes("+5G") == 5 * kGiB);
    CHECK(bytes("010") == 10);
    CHECK(size_error("512 1G") == "parts of a size must go from larger to smaller units, e.g. '1G 512M'");
    CHECK(size_error("1M 1G") == "parts of a size must go from larger to smaller units, e.g. '1G 512M'");
    CHECK(size_error("1G 1G") == "parts of a size must go from larger to smaller units, e.g. '1G 512M'");
}

TEST_CASE("sizes at the top of the range", "[values]") {
    CHECK(bytes("15E") == 15 * kEiB);
    CHECK(bytes("15E 1023P") == 15 * kEiB + 1023 * kPiB);
    CHECK(bytes("18446744073709551614") == UINT64_MAX - 1);
    CHECK(size_error("18446744073709551615") == "value too large (use 'infinity' for no limit)");
    CHECK(size_error("18446744073709551616") == "value too large");
    CHECK(size_error("16E") == "value too large");
    CHECK(size_error("15.99E") == "value too large");
    CHECK(size_error("15E 1024P") == "value too large");
    CHECK(size_error(std::string(10'000, '7') + "K") == "value too large");
    CHECK(size_error("1." + std::string(30, '5') + "G") == "too many digits after '.'");
}

TEST_CASE("percentages of a size", "[values]") {
    CHECK(limit_of("100%") == percent(10'000));
    CHECK(limit_of("0.5%") == percent(50));
    CHECK(limit_of("10.55%") == percent(1055));
    CHECK(limit_of("10.05%") == percent(1005));
    CHECK(limit_of("+50%") == percent(5000));
    CHECK(limit_of("010%") == percent(800));            // the number is read like a C integer, as in systemd
    CHECK(limit_of("5\xe2\x80\xb0") == percent(50));    // 5‰
    CHECK(limit_of("5.5\xe2\x80\xb0") == percent(55));  // 5.5‰
    CHECK(limit_of("5\xe2\x80\xb1") == percent(5));     // 5‱
    CHECK(size_error("101%") == "percentage must be between 0% and 100%");
    CHECK(size_error("100.01%") == "percentage must be between 0% and 100%");
    CHECK(size_error("0%") == "value out of range (must be more than 0%)");
    CHECK(size_error("10.555%") == "a percentage takes at most two decimals, e.g. '10.55%'");
    CHECK(size_error("10.%") == "a percentage takes at most two decimals, e.g. '10.55%'");
    CHECK(size_error("5.55\xe2\x80\xb0") == "a value in \xe2\x80\xb0 takes at most one decimal");
    CHECK(size_error("5.5\xe2\x80\xb1") == "a value in \xe2\x80\xb1 takes no decimals");
    CHECK(size_error(".5%") == "expected a number before '%'");
    CHECK(size_error("%") == "expected a number before '%'");
    CHECK(size_error("5 %") == "expected a number before '%'");
    CHECK(size_error("08%") == "expected a number before '%'");
    CHECK(size_error("-5%") == "a percentage must not be negative");
    CHECK(size_error("99999999999%") == "value too large");
}

TEST_CASE("parse_size options", "[values]") {
    CHECK(limit_of("0", true, true) == value(0));
    CHECK(limit_of("0%", true, true) == percent(0));
    CHECK(limit_of("1G", false) == value(kGiB));
    CHECK(limit_of("infinity", false) == kNoLimit);
    CHECK(size_error("50%", false) == "a percentage is not allowed here; give a size such as 512M or 1G");
}

TEST_CASE("format_limit prints exact multiples with a suffix", "[values]") {
    CHECK(format_limit(value(1'073'741'824)) == "1G");
    CHECK(format_limit(value(1'610'612'736)) == "1536M");
    CHECK(format_limit(value(524'288)) == "512K");
    CHECK(format_limit(value(512)) == "512");
    CHECK(format_limit(value(1025)) == "1025");
    CHECK(format_limit(value(0)) == "0");
    CHECK(format_limit(value(kEiB)) == "1E");
    CHECK(format_limit(value(15 * kEiB)) == "15E");
    CHECK(format_limit(value(3 * kPiB)) == "3P");
    CHECK(format_limit(value(kTiB + kGiB)) == "1025G");
    CHECK(format_limit(value(UINT64_MAX - 1)) == "18446744073709551614");
    CHECK(format_limit(percent(5000)) == "50%");
    CHECK(format_limit(percent(1050)) == "10.5%");
    CHECK(format_limit(percent(1055)) == "10.55%");
    CHECK(format_limit(percent(1005)) == "10.05%");
    CHECK(format_limit(percent(1)) == "0.01%");
    CHECK(format_limit(percent(10'000)) == "100%");
    CHECK(format_limit(kNoLimit) == "infinity");
}

TEST_CASE("parse_size reads back every format_limit output", "[values]") {
    std::vector<Limit> limits = {kNoLimit, value(UINT64_MAX - 1), value(15 * kEiB + 1)};
    for (uint64_t factor : {uint64_t{1}, kKiB, kMiB, kGiB, kTiB, kPiB, kEiB}) {
        for (uint64_t n : {1, 2, 3, 512, 1000, 1023, 1025}) {
            if (n <= (UINT64_MAX - 2) / factor) {
                limits.push_back(value(n * factor));
                limits.push_back(value(n * factor + 1));
            }
        }
    }
    for (uint64_t p = 1; p <= 10'000; p += 7) {
        limits.push_back(percent(p));
    }
    for (const Limit& limit : limits) {
        const std::string text = format_limit(limit);
        INFO("formats as '" << text << "'");
        CHECK(limit_of(text) == limit);
    }
}

TEST_CASE("TasksMax takes a count, a percentage or infinity", "[values]") {
    auto count = [](std::string_view text) { return accepted(parse_count_limit(text), text); };
    auto count_error = [](std::string_view text) { return rejected(parse_count_limit(text), text); };
    CHECK(count("4096") == value(4096));
    CHECK(count("1") == value(1));
    CHECK(count("15%") == percent(1500));
    CHECK(count("0%") == percent(0));
    CHECK(count("100%") == percent(10'000));
    CHECK(count("infinity") == kNoLimit);
    CHECK(count("+5") == value(5));
    CHECK(count("18446744073709551614") == value(UINT64_MAX - 1));
    // Counts are read like C integers, as systemd does.
    CHECK(count("010") == value(8));
    CHECK(count("0x10") == value(16));
    CHECK(count("0o10") == value(8));
    CHECK(count("0b11") == value(3));
    CHECK(count_error("0") == "value out of range (must be at least 1)");
    CHECK(count_error("-0") == "value out of range (must be at least 1)");
    CHECK(count_error("101%") == "percentage must be between 0% and 100%");
    CHECK(count_error("5K") == "expected a number, a percentage or 'infinity' (no K/M/G suffixes here)");
    CHECK(count_error("Infinity") ==
          "expected a number, a percentage or 'infinity' (no K/M/G suffixes here)");
    CHECK(count_error("08") == "expected a number, a percentage or 'infinity' (no K/M/G suffixes here)");
    CHECK(count_error("") == "expected a number, a percentage or 'infinity' (no K/M/G suffixes here)");
    CHECK(count_error("-5") == "value must not be negative");
    CHECK(count_error("18446744073709551615") == "value too large (use 'infinity' for no limit)");
    CHECK(count_error("18446744073709551616") == "value too large");
    CHECK(count_error(std::string(10'000, '1')) == "value too large");
}

// ---- CPUQuota= (§10) ---------------------------------------------------------------------------------

TEST_CASE("CPUQuota from SYSTEMD-SYNTAX.md section 10", "[values]") {
    CHECK(accepted(parse_cpu_quota("20%"), "20%") == 200'000);
    CHECK(accepted(parse_cpu_quota("150.5%"), "150.5%") == 1'505'000);
    CHECK(rejected(parse_cpu_quota("0%"), "0%") ==
          "CPU quota must be more than 0% (leave it empty for no quota)");
    CHECK(rejected(parse_cpu_quota("20"), "20") == "expected a percentage such as '20%' (100% is one CPU)");
}

TEST_CASE("CPUQuota values", "[values]") {
    auto quota = [](std::string_view text) { return accepted(parse_cpu_quota(text), text); };
    auto quota_error = [](std::string_view text) { return rejected(parse_cpu_quota(text), text); };
    CHECK(quota("100%") == kSec);
    CHECK(quota("200%") == 2 * kSec);
    CHECK(quota("0.5%") == 5000);
    CHECK(quota("0.01%") == 100);
    CHECK(quota("10.55%") == 105'500);
    CHECK(quota("5\xe2\x80\xb0") == 5000);  // 5‰
    CHECK(quota("+20%") == 200'000);
    CHECK(quota("21474836.47%") == 214'748'364'700);
    CHECK(quota_error("21474836.48%") == "value too large");
    CHECK(quota_error("0.001%") == "a percentage takes at most two decimals, e.g. '10.55%'");
    CHECK(quota_error("") == "expected a percentage such as '20%' (100% is one CPU)");
    CHECK(quota_error("20 %") == "expected a number before '%'");
    CHECK(quota_error("-20%") == "a percentage must not be negative");
    CHECK(quota_error("infinity") == "expected a percentage such as '20%' (100% is one CPU)");
}

// ---- Integers and modes ------------------------------------------------------------------------------

TEST_CASE("integers within a range", "[values]") {
    auto integer = [](std::string_view text, int64_t min, int64_t max) {
        return accepted(parse_integer(text, min, max), text);
    };
    CHECK(integer("5", 0, 10) == 5);
    CHECK(integer("0", 0, 10) == 0);
    CHECK(integer("10", 0, 10) == 10);
    CHECK(integer("-20", -20, 19) == -20);  // Nice=
    CHECK(integer("+19", -20, 19) == 19);
    CHECK(integer("-1000", -1000, 1000) == -1000);  // OOMScoreAdjust=
    CHECK(integer("9223372036854775807", INT64_MIN, INT64_MAX) == INT64_MAX);
    CHECK(integer("-9223372036854775808", INT64_MIN, INT64_MAX) == INT64_MIN);
    // Read like C integers, as systemd's safe_atoi() does.
    CHECK(integer("010", 0, 100) == 8);
    CHECK(integer("0x1f", 0, 100) == 31);
    CHECK(integer("0X1F", 0, 100) == 31);
    CHECK(integer("0o17", 0, 100) == 15);
    CHECK(integer("0b101", 0, 100) == 5);
    CHECK(integer("-0x10", -100, 100) == -16);
    CHECK(integer("00", 0, 100) == 0);
}

TEST_CASE("integers out of range or malformed", "[values]") {
    auto integer_error = [](std::string_view text, int64_t min, int64_t max) {
        return rejected(parse_integer(text, min, max), text);
    };
    CHECK(integer_error("11", 0, 10) == "value out of range (must be between 0 and 10)");
    CHECK(integer_error("-1", 0, 10) == "value out of range (must be between 0 and 10)");
    CHECK(integer_error("9223372036854775808", INT64_MIN, INT64_MAX) ==
          "value out of range (must be between -9223372036854775808 and 9223372036854775807)");
    CHECK(integer_error("-9223372036854775809", INT64_MIN, INT64_MAX) ==
          "value out of range (must be between -9223372036854775808 and 9223372036854775807)");
    CHECK(integer_error("99999999999999999999999", 0, 10) == "value out of range (must be between 0 and 10)");
    CHECK(integer_error(std::string(10'000, '9'), 0, 10) == "value out of range (must be between 0 and 10)");
    for (std::string_view text :
         {"", "abc", "5s", "1.5", "1e3", "5 ", "08", "0x", "0b2", "+-5", "--5", "+0o7"}) {
        CHECK(integer_error(text, 0, 10) == "expected a whole number between 0 and 10");
    }
}

TEST_CASE("octal modes for UMask=", "[values]") {
    auto mode = [](std::string_view text) { return accepted(parse_mode(text), text); };
    auto mode_error = [](std::string_view text) { return rejected(parse_mode(text), text); };
    CHECK(mode("0022") == 022);
    CHECK(mode("022") == 022);
    CHECK(mode("22") == 022);
    CHECK(mode("0077") == 077);
    CHECK(mode("0") == 0);
    CHECK(mode("7777") == 07777);
    CHECK(mode("00000644") == 0644);
    CHECK(mode_error("10000") == "mode out of range (at most 07777)");
    CHECK(mode_error(std::string(10'000, '7')) == "mode out of range (at most 07777)");
    for (std::string_view text : {"8", "0o22", "0x12", "+022", "-022", "", "u=rwx", "022 ", "0.22"}) {
        CHECK(mode_error(text) == "expected an octal mode such as 0022");
    }
}

// ---- Signals (§7) ------------------------------------------------------------------------------------

TEST_CASE("signals from SYSTEMD-SYNTAX.md section 7", "[values]") {
    CHECK(signal("TERM") == SIGTERM);
    CHECK(signal("SIGTERM") == SIGTERM);
    CHECK(signal("9") == SIGKILL);
    CHECK(signal("SIGKILL") == SIGKILL);
    CHECK(signal("SIGABRT") == SIGABRT);  // WatchdogSignal= default
    CHECK(signal("SIGRTMIN+1") == SIGRTMIN + 1);
}

TEST_CASE("every standard signal name, with and without SIG", "[values]") {
    struct Case {
        const char* name;
        int signo;
    };
    const std::vector<Case> cases = {
        {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"ILL", SIGILL},   {"TRAP", SIGTRAP},
        {"ABRT", SIGABRT},     {"BUS", SIGBUS},   {"FPE", SIGFPE},     {"KILL", SIGKILL}, {"USR1", SIGUSR1},
        {"SEGV", SIGSEGV},     {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
        {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
        {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU}, {"URG", SIGURG},     {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
        {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"PWR", SIGPWR},
        {"SYS", SIGSYS}};
    for (const Case& c : cases) {
        const std::string name = c.name;
        CHECK(signal(name) == c.signo);
        CHECK(signal("SIG" + name) == c.signo);
        CHECK(signal_name(c.signo) == "SIG" + name);
    }
}

TEST_CASE("real-time signals are counted from SIGRTMIN or SIGRTMAX at run time", "[values]") {
    const int span = SIGRTMAX - SIGRTMIN;
    CHECK(signal("SIGRTMIN") == SIGRTMIN);
    CHECK(signal("RTMIN") == SIGRTMIN);
    CHECK(signal("RTMIN+0") == SIGRTMIN);
    CHECK(signal("RTMIN+1") == SIGRTMIN + 1);
    CHECK(signal("SIGRTMIN+" + std::to_string(span)) == SIGRTMAX);
    CHECK(signal("SIGRTMAX") == SIGRTMAX);
    CHECK(signal("RTMAX") == SIGRTMAX);
    CHECK(signal("SIGRTMAX-2") == SIGRTMAX - 2);
    CHECK(signal("RTMAX-0") == SIGRTMAX);
    CHECK(signal("SIGRTMAX-" + std::to_string(span)) == SIGRTMIN);
    const std::string range = "(use SIGRTMIN+0 to SIGRTMIN+" + std::to_string(span) + ", or SIGRTMAX-" +
                              std::to_string(span) + " to SIGRTMAX-0)";
    CHECK(signal_error("SIGRTMIN+" + std::to_string(span + 1)) == "real-time signal out of range " + range);
    CHECK(signal_error("SIGRTMAX-" + std::to_string(span + 1)) == "real-time signal out of range " + range);
    CHECK(signal_error("RTMIN-1") == "invalid real-time signal 'RTMIN-1' " + range);
    CHECK(signal_error("RTMAX+1") == "invalid real-time signal 'RTMAX+1' " + range);
    CHECK(signal_error("RTMIN+-1") == "invalid real-time signal 'RTMIN+-1' " + range);
    CHECK(signal_error("RTMIN+ 1") == "invalid real-time signal 'RTMIN+ 1' " + range);
    CHECK(signal_error("SIGRTMIN+") == "invalid real-time signal 'SIGRTMIN+' " + range);
    CHECK(signal_error("SIGRTMINX") == "invalid real-time signal 'SIGRTMINX' " + range);
}

TEST_CASE("signal numbers are 1 to 64", "[values]") {
    for (int signo = 1; signo <= 64; ++signo) {
        CHECK(signal(std::to_string(signo)) == signo);
    }
    CHECK(signal("+9") == 9);
    CHECK(signal("011") == 9);  // read like a C integer, as in systemd
    CHECK(signal("0x9") == 9);
    CHECK(signal_error("0") == "signal number must be between 1 and 64");
    CHECK(signal_error("65") == "signal number must be between 1 and 64");
    CHECK(signal_error("-9") == "signal number must be between 1 and 64");
    CHECK(signal_error("99999999999999999999") == "signal number must be between 1 and 64");
}

TEST_CASE("unknown signals", "[values]") {
    const std::string usage = " (use a name such as SIGTERM or TERM, SIGRTMIN+N, or a number 1..64)";
    CHECK(signal_error("SIGFOO") == "unknown signal 'SIGFOO'" + usage);
    CHECK(signal_error("SIG9") == "unknown signal 'SIG9'" + usage);
    CHECK(signal_error("SIGTERM ") == "unknown signal 'SIGTERM '" + usage);
    CHECK(signal_error("term") == "unknown signal 'term' (signal names are case-sensitive: write 'SIGTERM')");
    CHECK(signal_error("sigkill") ==
          "unknown signal 'sigkill' (signal names are case-sensitive: write 'SIGKILL')");
    CHECK(signal_error("SigHup") ==
          "unknown signal 'SigHup' (signal names are case-sensitive: write 'SIGHUP')");
    CHECK(signal_error("sigrtmin+1") ==
          "unknown signal 'sigrtmin+1' (signal names are case-sensitive: write 'SIGRTMIN+1')");
    // systemd 252 takes none of the aliases.
    CHECK(signal_error("SIGIOT") == "unknown signal 'SIGIOT' (write 'SIGABRT')");
    CHECK(signal_error("POLL") == "unknown signal 'POLL' (write 'SIGIO')");
    CHECK(signal_error("SIGCLD") == "unknown signal 'SIGCLD' (write 'SIGCHLD')");
    CHECK(signal_error("") == "empty value (write a signal such as SIGTERM)");
}

TEST_CASE("signal_name", "[values]") {
    CHECK(signal_name(SIGTERM) == "SIGTERM");
    CHECK(signal_name(SIGKILL) == "SIGKILL");
    CHECK(signal_name(SIGRTMIN) == "SIGRTMIN+0");
    CHECK(signal_name(SIGRTMIN + 1) == "SIGRTMIN+1");
    CHECK(signal_name(SIGRTMAX) == "SIGRTMIN+" + std::to_string(SIGRTMAX - SIGRTMIN));
    CHECK(signal_name(0) == "0");
    CHECK(signal_name(-3) == "-3");
    CHECK(signal_name(200) == "200");
    for (int signo = 1; signo <= 64; ++signo) {
        CHECK(accepted(parse_signal(signal_name(signo)), signal_name(signo)) == signo);
    }
}

// ---- Exit statuses (§6) ------------------------------------------------------------------------------

TEST_CASE("exit status sets mix codes, names and signals", "[values]") {
    CHECK(exit_set("TEMPFAIL 250 SIGKILL") == ExitStatusSet{{75, 250}, {SIGKILL}});
    CHECK(exit_set("1 2 8 SIGHUP") == ExitStatusSet{{1, 2, 8}, {SIGHUP}});
    CHECK(exit_set("143") == ExitStatusSet{{143}, {}});
    CHECK(exit_set("SIGTERM SIGINT") == ExitStatusSet{{}, {SIGINT, SIGTERM}});
    CHECK(exit_set("KILL") == ExitStatusSet{{}, {SIGKILL}});
    CHECK(exit_set("SIGRTMIN+3") == ExitStatusSet{{}, {SIGRTMIN + 3}});
    CHECK(exit_set("0 255") == ExitStatusSet{{0, 255}, {}});
    CHECK(exit_set("  3\t1  3 KILL 9 SIGKILL ") == ExitStatusSet{{1, 3, 9}, {SIGKILL}});
    CHECK(exit_set("") == ExitStatusSet{});
    CHECK(exit_set("   ") == ExitStatusSet{});
}

TEST_CASE("a number in an exit status set is always an exit code", "[values]") {
    CHECK(exit_set("9") == ExitStatusSet{{9}, {}});
    CHECK(exit_set("15 SIGTERM") == ExitStatusSet{{15}, {SIGTERM}});
    CHECK(exit_set("+5") == ExitStatusSet{{5}, {}});
    CHECK(exit_set("0x10 010") == ExitStatusSet{{8, 16}, {}});  // C integers, as in systemd
    for (std::string_view text : {"256", "-1", "1000", "99999999999999999999"}) {
        CHECK(rejected(parse_exit_status_set(text), text) ==
              "exit status '" + std::string(text) + "' out of range (must be between 0 and 255)");
    }
}

TEST_CASE("exit status names are systemd's", "[values]") {
    CHECK(exit_set("SUCCESS FAILURE INVALIDARGUMENT NOTIMPLEMENTED NOPERMISSION NOTINSTALLED NOTCONFIGURED "
                   "NOTRUNNING") == ExitStatusSet{{0, 1, 2, 3, 4, 5, 6, 7}, {}});
    CHECK(exit_set("USAGE DATAERR NOINPUT NOUSER NOHOST UNAVAILABLE SOFTWARE OSERR OSFILE CANTCREAT IOERR "
                   "TEMPFAIL PROTOCOL NOPERM CONFIG") ==
          ExitStatusSet{{64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78}, {}});
    CHECK(exit_set("CHDIR NICE FDS EXEC MEMORY LIMITS OOM_ADJUST SIGNAL_MASK STDIN STDOUT CHROOT IOPRIO "
                   "TIMERSLACK SECUREBITS SETSCHEDULER CPUAFFINITY GROUP USER CAPABILITIES CGROUP SETSID "
                   "CONFIRM STDERR") ==
          ExitStatusSet{{200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211,
                         212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222},
                        {}});
    CHECK(exit_set("PAM NETWORK NAMESPACE NO_NEW_PRIVILEGES SECCOMP SELINUX_CONTEXT PERSONALITY APPARMOR "
                   "ADDRESS_FAMILIES RUNTIME_DIRECTORY CHOWN SMACK_PROCESS_LABEL KEYRING STATE_DIRECTORY "
                   "CACHE_DIRECTORY LOGS_DIRECTORY CONFIGURATION_DIRECTORY NUMA_POLICY CREDENTIALS BPF "
                   "EXCEPTION") == ExitStatusSet{{224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 235,
                                                  236, 237, 238, 239, 240, 241, 242, 243, 244, 255},
                                                 {}});
}

TEST_CASE("unknown words in an exit status set", "[values]") {
    const std::string usage = " (use a number 0..255, a name such as TEMPFAIL, or a signal such as SIGKILL)";
    CHECK(rejected(parse_exit_status_set("SIGFOO 5"), "SIGFOO 5") ==
          "unknown exit status or signal 'SIGFOO'" + usage);
    CHECK(rejected(parse_exit_status_set("tempfail"), "tempfail") ==
          "unknown exit status or signal 'tempfail'" + usage);
    CHECK(rejected(parse_exit_status_set("0,1"), "0,1") == "unknown exit status or signal '0,1'" + usage);
}

// ---- Resource limits (§9) ----------------------------------------------------------------------------

TEST_CASE("resource limits from SYSTEMD-SYNTAX.md section 9", "[values]") {
    CHECK(rlimit("LimitNOFILE", "1024:4096") == RLimit{1024, 4096});
    CHECK(rlimit("LimitNOFILE", "1024") == RLimit{1024, 1024});
    CHECK(rlimit("LimitNOFILE", "infinity") == RLimit{kInfinity, kInfinity});
    CHECK(rlimit("LimitAS", "1G") == RLimit{kGiB, kGiB});
    CHECK(rlimit("LimitCPU", "1min") == RLimit{60, 60});
}

TEST_CASE("count limits", "[values]") {
    for (std::string_view key :
         {"LimitNOFILE", "LimitNPROC", "LimitLOCKS", "LimitSIGPENDING", "LimitRTPRIO"}) {
        CHECK(rlimit(key, "512") == RLimit{512, 512});
        CHECK(rlimit(key, "0") == RLimit{0, 0});
        CHECK(rlimit(key, "1024:infinity") == RLimit{1024, kInfinity});
        CHECK(rlimit_error(key, "1K") == "expected a number or 'infinity' (no suffixes for this limit)");
    }
    CHECK(rlimit("LimitNOFILE", "010:9") == RLimit{8, 9});  // C integers, as in systemd
    CHECK(rlimit("LimitNOFILE", "0x10") == RLimit{16, 16});
    CHECK(rlimit("LimitNOFILE", "+5") == RLimit{5, 5});
    CHECK(rlimit("LimitNOFILE", "18446744073709551614") == RLimit{kInfinity - 1, kInfinity - 1});
    CHECK(rlimit_error("LimitNOFILE", "18446744073709551615") ==
          "value too large (use 'infinity' for no limit)");
    CHECK(rlimit_error("LimitNOFILE", "-1") == "value must not be negative");
    CHECK(rlimit_error("LimitNOFILE", "") == "empty limit (write a number, 'infinity' or 'soft:hard')");
}

TEST_CASE("soft and hard limits", "[values]") {
    CHECK(rlimit("LimitNOFILE", "infinity:infinity") == RLimit{kInfinity, kInfinity});
    CHECK(rlimit("LimitNOFILE", "5:6:") == RLimit{5, 6});  // systemd tolerates a trailing ':'
    const std::string order = "soft limit is above the hard limit (write 'soft:hard' with soft <= hard)";
    CHECK(rlimit_error("LimitNOFILE", "4096:1024") == order);
    CHECK(rlimit_error("LimitNOFILE", "infinity:1024") == order);
    CHECK(rlimit_error("LimitNOFILE", "5:6:7") == "expected one value or 'soft:hard', not three");
    CHECK(rlimit_error("LimitNOFILE", "5:") == "empty limit (write a number, 'infinity' or 'soft:hard')");
    CHECK(rlimit_error("LimitNOFILE", ":5") == "empty limit (write a number, 'infinity' or 'soft:hard')");
    CHECK(rlimit_error("LimitNOFILE", "5::") == "empty limit (write a number, 'infinity' or 'soft:hard')");
    CHECK(rlimit_error("LimitNOFILE", "1024 :4096") ==
          "expected a number or 'infinity' (no suffixes for this limit)");
}

TEST_CASE("byte limits take K M G T P E", "[values]") {
    for (std::string_view key : {"LimitFSIZE", "LimitDATA", "LimitSTACK", "LimitCORE", "LimitRSS", "LimitAS",
                                 "LimitMEMLOCK", "LimitMSGQUEUE"}) {
        CHECK(rlimit(key, "8M") == RLimit{8 * kMiB, 8 * kMiB});
        CHECK(rlimit(key, "0") == RLimit{0, 0});
        CHECK(rlimit(key, "infinity") == RLimit{kInfinity, kInfinity});
    }
    CHECK(rlimit("LimitAS", "4G:8G") == RLimit{4 * kGiB, 8 * kGiB});
    CHECK(rlimit("LimitAS", "1.5G") == RLimit{1'610'612'736, 1'610'612'736});
    CHECK(rlimit("LimitCORE", "0:infinity") == RLimit{0, kInfinity});
    CHECK(rlimit("LimitMEMLOCK", "64K") == RLimit{64 * kKiB, 64 * kKiB});
    CHECK(rlimit("LimitSTACK", "1E") == RLimit{kEiB, kEiB});
    CHECK(rlimit_error("LimitAS", "1g") == "size suffixes are K, M, G, T, P, E (base 1024)");
    CHECK(rlimit_error("LimitAS", "16E") == "value too large");
    CHECK(rlimit_error("LimitAS", "18446744073709551615") == "value too large (use 'infinity' for no limit)");
    CHECK(rlimit_error("LimitAS", "50%") == "unexpected '%' in size");
}

TEST_CASE("time limits take time units", "[values]") {
    CHECK(rlimit("LimitCPU", "1") == RLimit{1, 1});
    CHECK(rlimit("LimitCPU", "0.5") == RLimit{1, 1});  // rounded up to whole seconds
    CHECK(rlimit("LimitCPU", "5us") == RLimit{1, 1});
    CHECK(rlimit("LimitCPU", "0") == RLimit{0, 0});
    CHECK(rlimit("LimitCPU", "1h:infinity") == RLimit{3600, kInfinity});
    CHECK(rlimit("LimitCPU", "1min 30") == RLimit{90, 90});
    CHECK(rlimit("LimitCPU", "infinity") == RLimit{kInfinity, kInfinity});
    CHECK(rlimit("LimitRTTIME", "5") == RLimit{5, 5});  // bare number = µs
    CHECK(rlimit("LimitRTTIME", "5s") == RLimit{5 * kSec, 5 * kSec});
    CHECK(rlimit("LimitRTTIME", "1ms:1s") == RLimit{kMsec, kSec});
    CHECK(rlimit("LimitRTTIME", "infinity") == RLimit{kInfinity, kInfinity});
    CHECK(rlimit_error("LimitCPU", "10S") == "unknown time unit 'S' (units are case-sensitive: write 's')");
    CHECK(rlimit_error("LimitRTTIME", "1ns") == "unknown time unit 'ns' (the smallest unit is 'us')");
}

TEST_CASE("LimitNICE takes nice levels or raw values", "[values]") {
    CHECK(rlimit("LimitNICE", "+0") == RLimit{20, 20});
    CHECK(rlimit("LimitNICE", "+5") == RLimit{15, 15});
    CHECK(rlimit("LimitNICE", "+19") == RLimit{1, 1});
    CHECK(rlimit("LimitNICE", "-0") == RLimit{20, 20});
    CHECK(rlimit("LimitNICE", "-20") == RLimit{40, 40});
    CHECK(rlimit("LimitNICE", "0") == RLimit{0, 0});
    CHECK(rlimit("LimitNICE", "40") == RLimit{40, 40});
    CHECK(rlimit("LimitNICE", "+10:-10") == RLimit{10, 30});
    const std::string range = "(use a nice level -20..+19 with its sign, or a raw limit 0..40)";
    CHECK(rlimit_error("LimitNICE", "+20") == "nice level out of range " + range);
    CHECK(rlimit_error("LimitNICE", "-21") == "nice level out of range " + range);
    CHECK(rlimit_error("LimitNICE", "41") == "value out of range " + range);
    CHECK(rlimit_error("LimitNICE", "infinity") == "expected a nice level or a number " + range);
    CHECK(rlimit_error("LimitNICE", "-10:+10") ==
          "soft limit is above the hard limit (write 'soft:hard' with soft <= hard)");
}

TEST_CASE("resource limit keys", "[values]") {
    CHECK(rlimit("RLIMIT_NOFILE", "5") == RLimit{5, 5});
    CHECK(rlimit("NOFILE", "5") == RLimit{5, 5});
    CHECK(rlimit_error("LimitFOO", "1") == "unknown resource limit 'LimitFOO'");
    CHECK(rlimit_error("Limitnofile", "1") == "unknown resource limit 'Limitnofile'");
}

TEST_CASE("format_rlimit", "[values]") {
    CHECK(format_rlimit(RLimit{1024, 1024}) == "1024");
    CHECK(format_rlimit(RLimit{1024, 4096}) == "1024:4096");
    CHECK(format_rlimit(RLimit{}) == "infinity");
    CHECK(format_rlimit(RLimit{1024, kInfinity}) == "1024:infinity");
    CHECK(format_rlimit(RLimit{0, 0}) == "0");
    for (const RLimit& limit : {RLimit{1024, 4096}, RLimit{}, RLimit{0, kInfinity}, RLimit{7, 7}}) {
        CHECK(rlimit("LimitNOFILE", format_rlimit(limit)) == limit);
    }
}

// ---- Robustness ---------------------------------------------------------------------------------------

TEST_CASE("no parser throws on hostile input", "[values]") {
    const std::vector<std::string> inputs = {std::string(100'000, '9'),
                                             std::string(100'000, ' '),
                                             "1." + std::string(100'000, '9'),
                                             std::string(100'000, 'x'),
                                             std::string("\0\0\0", 3),
                                             "\xff\xfe\xc2",
                                             "%%%",
                                             "::::",
                                             "1" + std::string(50'000, '.'),
                                             "\xe2\x80"};
    for (const std::string& text : inputs) {
        CHECK_NOTHROW(parse_bool(text));
        CHECK_NOTHROW(parse_timespan(text));
        CHECK_NOTHROW(parse_timespan(text, 1));
        CHECK_NOTHROW(parse_size(text, true));
        CHECK_NOTHROW(parse_count_limit(text));
        CHECK_NOTHROW(parse_cpu_quota(text));
        CHECK_NOTHROW(parse_integer(text, INT64_MIN, INT64_MAX));
        CHECK_NOTHROW(parse_mode(text));
        CHECK_NOTHROW(parse_signal(text));
        CHECK_NOTHROW(parse_exit_status_set(text));
        CHECK_NOTHROW(parse_rlimit("LimitNOFILE", text));
        CHECK_NOTHROW(parse_rlimit("LimitCPU", text));
        CHECK_NOTHROW(parse_rlimit("LimitAS", text));
        CHECK_NOTHROW(parse_rlimit("LimitNICE", text));
    }
    CHECK(rejected(parse_timespan(std::string(100'000, '9')), "many nines") == "value too large");
    CHECK(span("1." + std::string(100'000, '9')) == 2 * kSec - 1);
}
