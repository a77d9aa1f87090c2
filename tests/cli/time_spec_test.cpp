#include "cli/time_spec.h"

#include <stdlib.h>
#include <time.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>

using gitvisor::cli::parse_time_spec;

namespace {

constexpr int64_t kSec = 1'000'000;
// 2026-11-25T13:20:01.123456Z
constexpr int64_t kNow = 1795612801123456;

// Sets TZ for one test and puts the old value back.
class TimeZone {
public:
    explicit TimeZone(const char* zone) {
        if (const char* old = getenv("TZ")) m_old = old;
        setenv("TZ", zone, 1);
        tzset();
    }
    ~TimeZone() {
        if (m_old) {
            setenv("TZ", m_old->c_str(), 1);
        } else {
            unsetenv("TZ");
        }
        tzset();
    }

private:
    std::optional<std::string> m_old;
};

int64_t parse(const std::string& text) {
    auto r = parse_time_spec(text, kNow);
    INFO(text << ": " << r.error());
    REQUIRE(r);
    return *r;
}

}  // namespace

TEST_CASE("time spec: RFC 3339 times are exact, whatever the time zone") {
    TimeZone zone("CET-1CEST,M3.5.0,M10.5.0/3");
    CHECK(parse("2026-11-25T13:20:01.123456Z") == kNow);
    CHECK(parse("2026-11-25T13:20:01Z") == kNow - 123456);
    CHECK(parse("2026-11-25T14:20:01.123456+01:00") == kNow);
    CHECK(parse("2026-11-25T08:20:01.123456-05:00") == kNow);
    CHECK(parse("2026-11-25 13:20:01.5 UTC") == kNow - 123456 + 500000);
    CHECK(parse("@1795612801") == kNow - 123456);
}

TEST_CASE("time spec: dates and clock times without a zone are local") {
    TimeZone zone("CET-1CEST,M3.5.0,M10.5.0/3");  // UTC+1 in November
    CHECK(parse("2026-11-25 14:20:01") == kNow - 123456);
    CHECK(parse("2026-11-25 14:20") == kNow - 123456 - kSec);
    // Local midnight of the 25th is 23:00 UTC on the 24th.
    const int64_t midnight = 1795564800 * kSec - 3600 * kSec;
    CHECK(parse("2026-11-25") == midnight);
    CHECK(parse("14:20:01") == kNow - 123456);
    CHECK(parse("today") == midnight);
    CHECK(parse("yesterday") == midnight - 86400 * kSec);
    CHECK(parse("tomorrow") == midnight + 86400 * kSec);
    CHECK(parse("now") == kNow);
}

TEST_CASE("time spec: relative times count from now") {
    CHECK(parse("-5min") == kNow - 300 * kSec);
    CHECK(parse("+1h") == kNow + 3600 * kSec);
    CHECK(parse("-1h 30min") == kNow - 5400 * kSec);
    CHECK(parse("2 days ago") == kNow - 2 * 86400 * kSec);
    CHECK(parse("10s left") == kNow + 10 * kSec);
    CHECK(parse("-90") == kNow - 90 * kSec);
}

TEST_CASE("time spec: what is not a time is refused with the forms that are") {
    for (const char* bad : {"", "soon", "2026-13-01", "2026-11-31 10:00", "25:00", "-5 fortnights", "@12x",
                            "2026-11-25T13:20:01+0100", "-infinity"}) {
        auto r = parse_time_spec(bad, kNow);
        INFO(bad);
        CHECK_FALSE(r);
        if (!r) CHECK(r.error().find("cannot read time '" + std::string(bad) + "': expected") == 0);
    }
}
