#include "unitfile/values.h"

// Time spans as systemd's parse_time() reads them and format_timespan() prints them.

#include <algorithm>
#include <array>

#include "unitfile/values_internal.h"

namespace gitvisor::unitfile {

using namespace detail;

namespace {

constexpr uint64_t kUsecPerMsec = 1'000;
constexpr uint64_t kUsecPerMinute = 60 * kUsecPerSec;
constexpr uint64_t kUsecPerHour = 60 * kUsecPerMinute;
constexpr uint64_t kUsecPerDay = 24 * kUsecPerHour;
constexpr uint64_t kUsecPerWeek = 7 * kUsecPerDay;
constexpr uint64_t kUsecPerMonth = 2'629'800 * kUsecPerSec;  // 365.25 / 12 days
constexpr uint64_t kUsecPerYear = 31'557'600 * kUsecPerSec;  // 365.25 days

struct TimeUnit {
    std::string_view name;
    uint64_t usec;
};

constexpr std::array<TimeUnit, 30> kTimeUnits = {{
    {"seconds", kUsecPerSec},
    {"second", kUsecPerSec},
    {"sec", kUsecPerSec},
    {"s", kUsecPerSec},
    {"minutes", kUsecPerMinute},
    {"minute", kUsecPerMinute},
    {"min", kUsecPerMinute},
    {"months", kUsecPerMonth},
    {"month", kUsecPerMonth},
    {"M", kUsecPerMonth},
    {"msec", kUsecPerMsec},
    {"ms", kUsecPerMsec},
    {"m", kUsecPerMinute},
    {"hours", kUsecPerHour},
    {"hour", kUsecPerHour},
    {"hr", kUsecPerHour},
    {"h", kUsecPerHour},
    {"days", kUsecPerDay},
    {"day", kUsecPerDay},
    {"d", kUsecPerDay},
    {"weeks", kUsecPerWeek},
    {"week", kUsecPerWeek},
    {"w", kUsecPerWeek},
    {"years", kUsecPerYear},
    {"year", kUsecPerYear},
    {"y", kUsecPerYear},
    {"usec", 1},
    {"us", 1},
    {"\xce\xbcs", 1} /* U+03BC GREEK SMALL LETTER MU */,
    {"\xc2\xb5s", 1} /* U+00B5 MICRO SIGN */
}};

// The units format_timespan prints, largest first.
constexpr std::array<TimeUnit, 9> kFormatUnits = {{{"y", kUsecPerYear},
                                                   {"month", kUsecPerMonth},
                                                   {"w", kUsecPerWeek},
                                                   {"d", kUsecPerDay},
                                                   {"h", kUsecPerHour},
                                                   {"min", kUsecPerMinute},
                                                   {"s", kUsecPerSec},
                                                   {"ms", kUsecPerMsec},
                                                   {"us", 1}}};

Result<uint64_t> unknown_time_unit(std::string_view word) {
    std::string message = "unknown time unit " + quoted(word);
    const std::string lower = lowercase(word);
    auto same_but_case = std::find_if(kTimeUnits.begin(), kTimeUnits.end(),
                                      [&](const TimeUnit& unit) { return lowercase(unit.name) == lower; });
    if (same_but_case != kTimeUnits.end()) {
        message += " (units are case-sensitive: write " + quoted(same_but_case->name) + ")";
    } else if (lower == "ns" || lower == "nsec") {
        message += " (the smallest unit is 'us')";
    } else {
        message += " (use us, ms, s, min, h, d, w, M or y)";
    }
    return Result<uint64_t>::fail(message);
}

Result<uint64_t> unexpected_in_timespan(std::string_view text, size_t pos) {
    if (text[pos] == ',') {
        return Result<uint64_t>::fail("unexpected ',' (use '.' for a fraction and spaces between items)");
    }
    return Result<uint64_t>::fail("unexpected " + quoted(text.substr(pos, 1)) + " in time span");
}

// Adds `value` to `total`, keeping the sum below kInfinity (which means "infinity", not a length).
bool add_usec(uint64_t& total, uint64_t value) {
    return !__builtin_add_overflow(total, value, &total) && total != kInfinity;
}

}  // namespace

Result<uint64_t> parse_timespan(std::string_view text, uint64_t bare_unit_usec) {
    size_t pos = skip_blanks(text, 0);
    if (text.substr(pos).starts_with("infinity")) {
        if (skip_blanks(text, pos + 8) != text.size()) {
            return Result<uint64_t>::fail("unexpected text after 'infinity'");
        }
        return Result<uint64_t>::ok(kInfinity);
    }

    uint64_t total = 0;
    bool any_item = false;
    for (;;) {
        pos = skip_blanks(text, pos);
        if (pos == text.size()) {
            break;
        }
        // 1. The number: digits, optionally "+" first and ".digits" after ("1.5", ".5", "+5").
        if (text[pos] == '-') {
            return Result<uint64_t>::fail("a time span must not be negative");
        }
        if (text[pos] == '+') {
            if (pos + 1 == text.size() || !is_digit(text[pos + 1])) {
                return Result<uint64_t>::fail("expected a digit after '+'");
            }
            ++pos;
        }
        if (!is_digit(text[pos]) && text[pos] != '.') {
            if (is_word_byte(text[pos])) {
                std::string_view word = text.substr(pos, skip_word(text, pos) - pos);
                if (lowercase(word) == "infinity") {
                    return Result<uint64_t>::fail(any_item ? "'infinity' must stand alone"
                                                           : "'infinity' must be written in lowercase");
                }
                return Result<uint64_t>::fail("expected a number before " + quoted(word));
            }
            return unexpected_in_timespan(text, pos);
        }
        uint64_t whole = 0;
        if (!read_decimal(text, pos, whole)) {
            return Result<uint64_t>::fail("value too large");
        }
        std::string_view decimals;
        if (pos < text.size() && text[pos] == '.') {
            const size_t decimals_start = ++pos;
            while (pos < text.size() && is_digit(text[pos])) {
                ++pos;
            }
            decimals = text.substr(decimals_start, pos - decimals_start);
            if (decimals.empty()) {
                return Result<uint64_t>::fail("expected a digit after '.' (write '1s' or '1.5s', not '1.s')");
            }
        }

        // 2. The unit, right after the number or after blanks; none means bare_unit_usec.
        uint64_t multiplier = bare_unit_usec;
        const size_t unit_start = skip_blanks(text, pos);
        const size_t unit_end = skip_word(text, unit_start);
        if (unit_end > unit_start) {
            std::string_view word = text.substr(unit_start, unit_end - unit_start);
            auto unit = std::find_if(kTimeUnits.begin(), kTimeUnits.end(),
                                     [&](const TimeUnit& u) { return u.name == word; });
            if (unit == kTimeUnits.end()) {
                return unknown_time_unit(word);
            }
            multiplier = unit->usec;
            pos = unit_end;
        } else if (unit_start == pos && pos < text.size()) {
            // Something other than a unit or a blank is glued to the number ("1,5s", "12.34.56").
            return unexpected_in_timespan(text, pos);
        } else if (bare_unit_usec == 0) {
            return Result<uint64_t>::fail("a number needs a unit here, e.g. '5s'");
        }

        // 3. Add it up, digit by digit for the fraction as systemd does (precision 1 µs, rounding down).
        uint64_t product = 0;
        if (__builtin_mul_overflow(whole, multiplier, &product) || !add_usec(total, product)) {
            return Result<uint64_t>::fail("value too large");
        }
        uint64_t place = multiplier / 10;
        for (char digit : decimals) {
            if (!add_usec(total, static_cast<uint64_t>(digit - '0') * place)) {
                return Result<uint64_t>::fail("value too large");
            }
            place /= 10;
        }
        any_item = true;
    }
    if (!any_item) {
        return Result<uint64_t>::fail("empty time span (write e.g. '5s', '1min 30s' or 'infinity')");
    }
    return Result<uint64_t>::ok(total);
}

std::string format_timespan(uint64_t usec) {
    if (usec == kInfinity) {
        return "infinity";
    }
    if (usec == 0) {
        return "0";
    }
    std::string out;
    for (const TimeUnit& unit : kFormatUnits) {
        if (usec < unit.usec) {
            continue;
        }
        if (!out.empty()) {
            out += ' ';
        }
        out += std::to_string(usec / unit.usec);
        out += unit.name;
        usec %= unit.usec;
        if (usec == 0) {
            break;
        }
    }
    return out;
}

}  // namespace gitvisor::unitfile
