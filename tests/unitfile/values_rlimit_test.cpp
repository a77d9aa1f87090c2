#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "unitfile/values.h"
#include "values_test_support.h"

using namespace gitvisor::unitfile;
using namespace gitvisor::unitfile::testing;

namespace {

RLimit rlimit(std::string_view key, std::string_view text) { return accepted(parse_rlimit(key, text), text); }
std::string rlimit_error(std::string_view key, std::string_view text) {
    return rejected(parse_rlimit(key, text), text);
}

}  // namespace

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
