#include "cli/time_spec.h"

#include <cctype>
#include <ctime>
#include <optional>
#include <string>

#include "unitfile/values.h"

namespace gitvisor::cli {
namespace {

constexpr int64_t kUsecPerSec = 1'000'000;

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// Reads exactly `digits` decimal digits at `pos`.
bool read_fixed(std::string_view s, size_t& pos, int digits, int& out) {
    if (pos + static_cast<size_t>(digits) > s.size()) return false;
    out = 0;
    for (int i = 0; i < digits; ++i) {
        const char c = s[pos + static_cast<size_t>(i)];
        if (c < '0' || c > '9') return false;
        out = out * 10 + (c - '0');
    }
    pos += static_cast<size_t>(digits);
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct Civil {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    int64_t micros = 0;
};

bool valid(const Civil& c) {
    static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return c.month >= 1 && c.month <= 12 && c.day >= 1 && c.day <= kDays[c.month - 1] && c.hour <= 23 &&
           c.minute <= 59 && c.second <= 60;
}

int64_t utc_usec(const Civil& c) {
    const int64_t days = days_from_civil(c.year, c.month, c.day);
    return ((days * 24 + c.hour) * 60 + c.minute) * 60 * kUsecPerSec + int64_t{c.second} * kUsecPerSec + c.micros;
}

std::optional<int64_t> local_usec(const Civil& c) {
    std::tm tm{};
    tm.tm_year = c.year - 1900;
    tm.tm_mon = c.month - 1;
    tm.tm_mday = c.day;
    tm.tm_hour = c.hour;
    tm.tm_min = c.minute;
    tm.tm_sec = c.second;
    tm.tm_isdst = -1;
    const time_t t = std::mktime(&tm);
    if (t == static_cast<time_t>(-1)) return std::nullopt;
    return static_cast<int64_t>(t) * kUsecPerSec + c.micros;
}

Civil local_date_of(int64_t usec) {
    const time_t t = static_cast<time_t>(usec / kUsecPerSec);
    std::tm tm{};
    localtime_r(&t, &tm);
    Civil c;
    c.year = tm.tm_year + 1900;
    c.month = tm.tm_mon + 1;
    c.day = tm.tm_mday;
    return c;
}

// HH:MM[:SS[.frac]] at `pos`.
bool read_clock(std::string_view s, size_t& pos, Civil& c) {
    if (!read_fixed(s, pos, 2, c.hour) || pos >= s.size() || s[pos] != ':') return false;
    ++pos;
    if (!read_fixed(s, pos, 2, c.minute)) return false;
    if (pos < s.size() && s[pos] == ':') {
        ++pos;
        if (!read_fixed(s, pos, 2, c.second)) return false;
        if (pos < s.size() && s[pos] == '.') {
            ++pos;
            int64_t scale = 100000;
            const size_t start = pos;
            while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
                c.micros += (s[pos] - '0') * scale;
                scale /= 10;
                ++pos;
            }
            if (pos == start) return false;
        }
    }
    return true;
}

// An absolute time, or nullopt when `s` is not one.
std::optional<int64_t> absolute(std::string_view s, int64_t now_usec) {
    Civil c;
    size_t pos = 0;
    bool have_date = false;
    if (s.size() >= 10 && s[4] == '-' && s[7] == '-') {
        if (!read_fixed(s, pos, 4, c.year) || s[pos++] != '-' || !read_fixed(s, pos, 2, c.month) ||
            s[pos++] != '-' || !read_fixed(s, pos, 2, c.day))
            return std::nullopt;
        have_date = true;
        if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ' || s[pos] == 't')) {
            ++pos;
            if (!read_clock(s, pos, c)) return std::nullopt;
        }
    } else if (!read_clock(s, pos, c)) {
        return std::nullopt;
    }
    if (!have_date) {
        const Civil today = local_date_of(now_usec);
        c.year = today.year;
        c.month = today.month;
        c.day = today.day;
    }
    if (!valid(c)) return std::nullopt;
    const std::string_view zone = trim(s.substr(pos));
    if (zone.empty()) return local_usec(c);
    if (zone == "Z" || zone == "z" || zone == "UTC") return utc_usec(c);
    if ((zone[0] == '+' || zone[0] == '-') && zone.size() == 6 && zone[3] == ':') {
        int hours = 0, minutes = 0;
        size_t p = 1;
        if (!read_fixed(zone, p, 2, hours) || !read_fixed(zone, ++p, 2, minutes) || hours > 23 || minutes > 59)
            return std::nullopt;
        const int64_t offset = (int64_t{hours} * 60 + minutes) * 60 * kUsecPerSec;
        return utc_usec(c) - (zone[0] == '+' ? offset : -offset);
    }
    return std::nullopt;
}

}  // namespace

Result<int64_t> parse_time_spec(std::string_view text, int64_t now_usec) {
    using R = Result<int64_t>;
    const std::string_view s = trim(text);
    const auto fail = [&] {
        return R::fail("cannot read time '" + std::string(text) +
                       "': expected 2026-11-25T13:20:01Z, \"2026-11-25 13:20\", today, yesterday, -5min, "
                       "\"1h ago\" or @SECONDS");
    };
    if (s.empty()) return fail();
    if (s == "now") return R::ok(now_usec);
    if (s == "today" || s == "yesterday" || s == "tomorrow") {
        Civil day = local_date_of(now_usec);
        const std::optional<int64_t> midnight = local_usec(day);
        if (!midnight) return fail();
        if (s == "today") return R::ok(*midnight);
        // A day earlier or later, at local midnight (DST changes make a day 23 or 25 hours long).
        Civil other = local_date_of(*midnight + (s == "yesterday" ? -12 : 36) * 3600 * kUsecPerSec);
        const std::optional<int64_t> other_midnight = local_usec(other);
        return other_midnight ? R::ok(*other_midnight) : fail();
    }
    if (s[0] == '@') {
        const std::string digits(s.substr(1));
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 12)
            return fail();
        return R::ok(std::stoll(digits) * kUsecPerSec);
    }
    // Relative: -SPAN, +SPAN, "SPAN ago", "SPAN left".
    int sign = 0;
    std::string_view span;
    if (s[0] == '-' || s[0] == '+') {
        sign = s[0] == '-' ? -1 : 1;
        span = s.substr(1);
    } else if (s.ends_with(" ago")) {
        sign = -1;
        span = s.substr(0, s.size() - 4);
    } else if (s.ends_with(" left")) {
        sign = 1;
        span = s.substr(0, s.size() - 5);
    }
    if (sign != 0) {
        const Result<uint64_t> usec = unitfile::parse_timespan(trim(span));
        if (!usec || *usec == unitfile::kInfinity) return fail();
        return R::ok(now_usec + sign * static_cast<int64_t>(*usec));
    }
    if (const std::optional<int64_t> t = absolute(s, now_usec)) return R::ok(*t);
    return fail();
}

}  // namespace gitvisor::cli
