#include "unitfile/values.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "values_test_support.h"

using namespace gitvisor::unitfile;
using namespace gitvisor::unitfile::testing;

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
