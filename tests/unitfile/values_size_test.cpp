#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "unitfile/values.h"
#include "values_test_support.h"

using namespace gitvisor::unitfile;
using namespace gitvisor::unitfile::testing;

namespace {

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

}  // namespace

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
