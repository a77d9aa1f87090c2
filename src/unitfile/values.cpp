#include "unitfile/values.h"

// Each parser follows the systemd 252 function that reads the same setting (named in its comment), so
// that a unit file means the same under gitvisor as under systemd, down to the odd corners ("010" is
// octal in a count but decimal in a size). Checked against systemd-analyze 252.

#include <algorithm>
#include <array>
#include <climits>
#include <csignal>
#include <utility>

namespace gitvisor::unitfile {

namespace {

// The characters systemd skips as blanks (its WHITESPACE).
constexpr std::string_view kBlanks = " \t\n\r";

constexpr uint64_t kUsecPerMsec = 1'000;
constexpr uint64_t kUsecPerMinute = 60 * kUsecPerSec;
constexpr uint64_t kUsecPerHour = 60 * kUsecPerMinute;
constexpr uint64_t kUsecPerDay = 24 * kUsecPerHour;
constexpr uint64_t kUsecPerWeek = 7 * kUsecPerDay;
constexpr uint64_t kUsecPerMonth = 2'629'800 * kUsecPerSec;  // 365.25 / 12 days
constexpr uint64_t kUsecPerYear = 31'557'600 * kUsecPerSec;  // 365.25 days

constexpr int kMaxSignal = 64;  // Linux _NSIG - 1

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_blank(char c) { return kBlanks.find(c) != std::string_view::npos; }
// Unit and suffix words are ASCII letters, plus the UTF-8 bytes of "µs".
bool is_word_byte(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}
char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), to_lower);
    return out;
}

std::string uppercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), to_upper);
    return out;
}

size_t skip_blanks(std::string_view text, size_t pos) {
    while (pos < text.size() && is_blank(text[pos])) {
        ++pos;
    }
    return pos;
}

size_t skip_word(std::string_view text, size_t pos) {
    while (pos < text.size() && is_word_byte(text[pos])) {
        ++pos;
    }
    return pos;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Reads decimal digits from `pos` into `value`; returns false on overflow (the digits are consumed anyway).
bool read_decimal(std::string_view text, size_t& pos, uint64_t& value) {
    bool fits = true;
    value = 0;
    while (pos < text.size() && is_digit(text[pos])) {
        uint64_t digit = static_cast<uint64_t>(text[pos] - '0');
        if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, digit, &value)) {
            fits = false;
        }
        ++pos;
    }
    return fits;
}

// ---- Integers --------------------------------------------------------------------------------------

struct CNumber {
    bool negative = false;
    uint64_t magnitude = 0;
};

int digit_value(char c) {
    if (is_digit(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return 99;
}

// An integer as systemd's safe_atou()/safe_atoi() read it: strtoul() with base 0 after a "0b"/"0o"
// prefix check. So "0x10" is 16, "010" is octal 8, "0o10" is 8, "0b11" is 3; leading blanks and one
// sign are allowed. Counts, signal numbers, exit codes and the number in a percentage all go through here.
Result<CNumber> parse_c_number(std::string_view text) {
    size_t pos = skip_blanks(text, 0);
    int base = 0;
    if (text.size() - pos >= 2 && text[pos] == '0') {
        char kind = to_lower(text[pos + 1]);
        if (kind == 'b' || kind == 'o') {
            base = kind == 'b' ? 2 : 8;
            pos += 2;
        }
    }
    CNumber number;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        number.negative = text[pos] == '-';
        ++pos;
    }
    if (base == 0) {
        if (text.size() - pos >= 3 && text[pos] == '0' && to_lower(text[pos + 1]) == 'x' &&
            digit_value(text[pos + 2]) < 16) {
            base = 16;
            pos += 2;
        } else {
            base = pos < text.size() && text[pos] == '0' ? 8 : 10;
        }
    }
    const size_t digits_start = pos;
    bool fits = true;
    for (; pos < text.size() && digit_value(text[pos]) < base; ++pos) {
        auto digit = static_cast<uint64_t>(digit_value(text[pos]));
        uint64_t b = static_cast<uint64_t>(base);
        if (__builtin_mul_overflow(number.magnitude, b, &number.magnitude) ||
            __builtin_add_overflow(number.magnitude, digit, &number.magnitude)) {
            fits = false;
        }
    }
    if (pos == digits_start || pos != text.size()) {
        return Result<CNumber>::fail("expected a number");
    }
    if (!fits) {
        return Result<CNumber>::fail("value too large");
    }
    return Result<CNumber>::ok(number);
}

// safe_atou64(): a C number that is not negative ("-0" passes as 0, as it does in systemd).
Result<uint64_t> parse_c_unsigned(std::string_view text) {
    auto number = parse_c_number(text);
    if (!number) {
        return Result<uint64_t>::fail(number.error());
    }
    if (number->negative && number->magnitude != 0) {
        return Result<uint64_t>::fail("value must not be negative");
    }
    return Result<uint64_t>::ok(number->magnitude);
}

// safe_atoi(): a C number that fits an int.
Result<int> parse_c_int(std::string_view text) {
    auto number = parse_c_number(text);
    if (!number) {
        return Result<int>::fail(number.error());
    }
    const uint64_t limit = number->negative ? uint64_t{INT_MAX} + 1 : uint64_t{INT_MAX};
    if (number->magnitude > limit) {
        return Result<int>::fail("value out of range");
    }
    const auto magnitude = static_cast<int64_t>(number->magnitude);
    return Result<int>::ok(static_cast<int>(number->negative ? -magnitude : magnitude));
}

// ---- Percentages (systemd's parse_permyriad) ---------------------------------------------------------

constexpr std::string_view kPermille = "\xe2\x80\xb0";   // U+2030 PER MILLE SIGN
constexpr std::string_view kPermyriad = "\xe2\x80\xb1";  // U+2031 PER TEN THOUSAND SIGN

bool is_percentage(std::string_view text) {
    return text.ends_with('%') || text.ends_with(kPermille) || text.ends_with(kPermyriad);
}

// "N%", "N.D%", "N.DD%", "N‰", "N.D‰" or "N‱", in hundredths of a percent, at most `max`.
Result<uint64_t> parse_permyriad(std::string_view text, uint64_t max) {
    std::string_view symbol = text.ends_with('%') ? "%" : text.ends_with(kPermille) ? kPermille : kPermyriad;
    const int places = symbol == "%" ? 2 : symbol == kPermille ? 1 : 0;
    std::string_view number = text.substr(0, text.size() - symbol.size());

    uint64_t fraction = 0;
    size_t dot = number.find('.');
    if (dot != std::string_view::npos) {
        std::string_view decimals = number.substr(dot + 1);
        if (decimals.empty() || decimals.size() > static_cast<size_t>(places) ||
            !std::all_of(decimals.begin(), decimals.end(), is_digit)) {
            if (places == 0) {
                return Result<uint64_t>::fail("a value in \xe2\x80\xb1 takes no decimals");
            }
            return Result<uint64_t>::fail(places == 2
                                              ? "a percentage takes at most two decimals, e.g. '10.55%'"
                                              : "a value in \xe2\x80\xb0 takes at most one decimal");
        }
        for (int i = 0; i < places; ++i) {
            fraction = fraction * 10 + (static_cast<size_t>(i) < decimals.size() ? decimals[i] - '0' : 0);
        }
        number = number.substr(0, dot);
    }
    auto whole = parse_c_int(number);
    if (!whole) {
        return Result<uint64_t>::fail(whole.error() == "expected a number"
                                          ? "expected a number before " + quoted(symbol)
                                          : "value too large");
    }
    if (*whole < 0) {
        return Result<uint64_t>::fail("a percentage must not be negative");
    }
    uint64_t scale = places == 2 ? 100 : places == 1 ? 10 : 1;
    // systemd keeps the result in an int.
    if (static_cast<uint64_t>(*whole) > (uint64_t{INT_MAX} - fraction) / scale) {
        return Result<uint64_t>::fail("value too large");
    }
    uint64_t value = static_cast<uint64_t>(*whole) * scale + fraction;
    if (value > max) {
        return Result<uint64_t>::fail("percentage must be between 0% and 100%");
    }
    return Result<uint64_t>::ok(value);
}

// ---- Sizes (systemd's parse_size with base 1024) -----------------------------------------------------

struct SizeSuffix {
    std::string_view text;
    uint64_t factor;
};

// Largest first: in "1G 512M" each part's suffix must come after the previous one's in this table.
constexpr std::array<SizeSuffix, 8> kSizeSuffixes = {{{"E", uint64_t{1} << 60},
                                                      {"P", uint64_t{1} << 50},
                                                      {"T", uint64_t{1} << 40},
                                                      {"G", uint64_t{1} << 30},
                                                      {"M", uint64_t{1} << 20},
                                                      {"K", uint64_t{1} << 10},
                                                      {"B", 1},
                                                      {"", 1}}};

constexpr std::string_view kSizeSuffixHelp = "size suffixes are K, M, G, T, P, E (base 1024)";

Result<uint64_t> size_part_error(std::string_view text, size_t pos) {
    if (pos >= text.size()) {
        return Result<uint64_t>::fail("expected a number such as 512M or 1.5G");
    }
    if (text[pos] == '-') {
        return Result<uint64_t>::fail("a size must not be negative");
    }
    if (text[pos] == '.') {
        return Result<uint64_t>::fail("expected a digit before '.' (write '0.5G', not '.5G')");
    }
    if (is_word_byte(text[pos])) {
        return Result<uint64_t>::fail(std::string(kSizeSuffixHelp));
    }
    return Result<uint64_t>::fail("unexpected " + quoted(text.substr(pos, 1)) + " in size");
}

// A byte count: parts "<number>[.<digits>][ ]<suffix>" added up, suffixes falling ("1G 512M").
Result<uint64_t> parse_bytes(std::string_view text) {
    uint64_t total = 0;
    size_t first_suffix = 0;
    size_t pos = 0;
    do {
        pos = skip_blanks(text, pos);
        if (pos < text.size() && text[pos] == '+' && pos + 1 < text.size() && is_digit(text[pos + 1])) {
            ++pos;
        }
        if (pos >= text.size() || !is_digit(text[pos])) {
            return size_part_error(text, pos);
        }
        uint64_t whole = 0;
        if (!read_decimal(text, pos, whole)) {
            return Result<uint64_t>::fail("value too large");
        }
        // systemd computes the fraction in double precision; doing the same keeps results identical.
        double fraction = 0;
        if (pos < text.size() && text[pos] == '.') {
            ++pos;
            const size_t digits_start = pos;
            uint64_t digits = 0;
            if (!read_decimal(text, pos, digits)) {
                return Result<uint64_t>::fail("too many digits after '.'");
            }
            fraction = static_cast<double>(digits);
            for (size_t i = digits_start; i < pos; ++i) {
                fraction /= 10;
            }
        }
        pos = skip_blanks(text, pos);

        const size_t word_end = skip_word(text, pos);
        std::string_view word = text.substr(pos, word_end - pos);
        auto suffix = std::find_if(kSizeSuffixes.begin(), kSizeSuffixes.end(),
                                   [&](const SizeSuffix& s) { return s.text == word; });
        if (suffix == kSizeSuffixes.end()) {
            return Result<uint64_t>::fail(std::string(kSizeSuffixHelp));
        }
        auto index = static_cast<size_t>(suffix - kSizeSuffixes.begin());
        if (index < first_suffix) {
            return Result<uint64_t>::fail(
                "parts of a size must go from larger to smaller units, e.g. '1G 512M'");
        }
        const uint64_t limit = UINT64_MAX / suffix->factor;
        if (whole > limit || (fraction > 0 && whole == limit)) {
            return Result<uint64_t>::fail("value too large");
        }
        const uint64_t part =
            whole * suffix->factor + static_cast<uint64_t>(fraction * static_cast<double>(suffix->factor));
        if (part > UINT64_MAX - total) {
            return Result<uint64_t>::fail("value too large");
        }
        total += part;
        pos = word_end;
        first_suffix = index + 1;
    } while (pos < text.size());
    return Result<uint64_t>::ok(total);
}

// ---- Time spans (systemd's parse_time) ---------------------------------------------------------------

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

// ---- Booleans ----------------------------------------------------------------------------------------

Result<bool> parse_bool(std::string_view text) {
    const std::string lower = lowercase(text);
    for (std::string_view word : {"1", "yes", "y", "true", "t", "on"}) {
        if (lower == word) {
            return Result<bool>::ok(true);
        }
    }
    for (std::string_view word : {"0", "no", "n", "false", "f", "off"}) {
        if (lower == word) {
            return Result<bool>::ok(false);
        }
    }
    return Result<bool>::fail("expected a boolean (yes/no, true/false, on/off, 1/0)");
}

// ---- Time spans --------------------------------------------------------------------------------------

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

// ---- Sizes and limits --------------------------------------------------------------------------------

Result<Limit> parse_size(std::string_view text, bool allow_percent, bool allow_zero) {
    // As systemd's config_parse_memory_limit: "infinity", then a percentage, then a byte count.
    if (text == "infinity") {
        return Result<Limit>::ok(Limit{Limit::Kind::Infinity, 0});
    }
    if (is_percentage(text)) {
        if (!allow_percent) {
            return Result<Limit>::fail("a percentage is not allowed here; give a size such as 512M or 1G");
        }
        auto permyriad = parse_permyriad(text, 10'000);
        if (!permyriad) {
            return Result<Limit>::fail(permyriad.error());
        }
        if (*permyriad == 0 && !allow_zero) {
            return Result<Limit>::fail("value out of range (must be more than 0%)");
        }
        return Result<Limit>::ok(Limit{Limit::Kind::Percent, *permyriad});
    }
    if (text.empty()) {
        return Result<Limit>::fail("empty value (write e.g. '512M', '1G' or 'infinity')");
    }
    auto bytes = parse_bytes(text);
    if (!bytes) {
        if (text.starts_with("Infinity") || text.starts_with("INFINITY")) {
            return Result<Limit>::fail("'infinity' must be written in lowercase");
        }
        return Result<Limit>::fail(bytes.error());
    }
    if (*bytes == UINT64_MAX) {
        return Result<Limit>::fail("value too large (use 'infinity' for no limit)");
    }
    if (*bytes == 0 && !allow_zero) {
        return Result<Limit>::fail("value out of range (must be more than 0)");
    }
    return Result<Limit>::ok(Limit{Limit::Kind::Value, *bytes});
}

Result<Limit> parse_count_limit(std::string_view text) {
    // As systemd's config_parse_tasks_max: "0%" passes but a count of 0 does not.
    if (text == "infinity") {
        return Result<Limit>::ok(Limit{Limit::Kind::Infinity, 0});
    }
    if (is_percentage(text)) {
        auto permyriad = parse_permyriad(text, 10'000);
        if (!permyriad) {
            return Result<Limit>::fail(permyriad.error());
        }
        return Result<Limit>::ok(Limit{Limit::Kind::Percent, *permyriad});
    }
    auto count = parse_c_unsigned(text);
    if (!count) {
        if (count.error() == "expected a number") {
            return Result<Limit>::fail(
                "expected a number, a percentage or 'infinity' (no K/M/G suffixes here)");
        }
        return Result<Limit>::fail(count.error());
    }
    if (*count == 0) {
        return Result<Limit>::fail("value out of range (must be at least 1)");
    }
    if (*count == UINT64_MAX) {
        return Result<Limit>::fail("value too large (use 'infinity' for no limit)");
    }
    return Result<Limit>::ok(Limit{Limit::Kind::Value, *count});
}

std::string format_limit(const Limit& limit) {
    switch (limit.kind) {
        case Limit::Kind::Infinity:
            return "infinity";
        case Limit::Kind::Percent: {
            std::string out = std::to_string(limit.value / 100);
            const uint64_t hundredths = limit.value % 100;
            if (hundredths != 0) {
                out += '.';
                out += static_cast<char>('0' + hundredths / 10);
                if (hundredths % 10 != 0) {
                    out += static_cast<char>('0' + hundredths % 10);
                }
            }
            return out + "%";
        }
        case Limit::Kind::Value:
            break;
    }
    if (limit.value != 0) {
        for (const SizeSuffix& suffix : kSizeSuffixes) {
            if (suffix.factor > 1 && limit.value % suffix.factor == 0) {
                return std::to_string(limit.value / suffix.factor) + std::string(suffix.text);
            }
        }
    }
    return std::to_string(limit.value);
}

Result<uint64_t> parse_cpu_quota(std::string_view text) {
    // As systemd's config_parse_cpu_quota: any percentage above 0, also over 100%.
    if (!is_percentage(text)) {
        return Result<uint64_t>::fail("expected a percentage such as '20%' (100% is one CPU)");
    }
    auto permyriad = parse_permyriad(text, INT_MAX);
    if (!permyriad) {
        return Result<uint64_t>::fail(permyriad.error());
    }
    if (*permyriad == 0) {
        return Result<uint64_t>::fail("CPU quota must be more than 0% (leave it empty for no quota)");
    }
    return Result<uint64_t>::ok(*permyriad * kUsecPerSec / 10'000);
}

// ---- Integers and modes ------------------------------------------------------------------------------

Result<int64_t> parse_integer(std::string_view text, int64_t min, int64_t max) {
    const std::string bounds = "between " + std::to_string(min) + " and " + std::to_string(max);
    const std::string out_of_range = "value out of range (must be " + bounds + ")";
    auto number = parse_c_number(text);
    if (!number) {
        if (number.error() == "expected a number") {
            return Result<int64_t>::fail("expected a whole number " + bounds);
        }
        return Result<int64_t>::fail(out_of_range);
    }
    const uint64_t limit = number->negative ? uint64_t{1} << 63 : uint64_t{INT64_MAX};
    if (number->magnitude > limit) {
        return Result<int64_t>::fail(out_of_range);
    }
    const int64_t value = number->negative ? static_cast<int64_t>(0 - number->magnitude)
                                           : static_cast<int64_t>(number->magnitude);
    if (value < min || value > max) {
        return Result<int64_t>::fail(out_of_range);
    }
    return Result<int64_t>::ok(value);
}

Result<uint32_t> parse_mode(std::string_view text) {
    // As systemd's parse_mode: octal digits only, no sign, at most 07777.
    size_t pos = skip_blanks(text, 0);
    const size_t digits_start = pos;
    uint32_t mode = 0;
    for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '7'; ++pos) {
        mode = mode * 8 + static_cast<uint32_t>(text[pos] - '0');
        if (mode > 07777) {
            return Result<uint32_t>::fail("mode out of range (at most 07777)");
        }
    }
    if (pos == digits_start || pos != text.size()) {
        return Result<uint32_t>::fail("expected an octal mode such as 0022");
    }
    return Result<uint32_t>::ok(mode);
}

// ---- Signals -----------------------------------------------------------------------------------------

namespace {

struct SignalName {
    int signo;
    std::string_view name;
};

// systemd's table: the names strsignal() abbreviates, without aliases such as IOT, POLL or CLD.
constexpr auto kSignalNames = std::to_array<SignalName>(
    {{SIGHUP, "HUP"},       {SIGINT, "INT"},     {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},   {SIGTRAP, "TRAP"},
     {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},     {SIGFPE, "FPE"},   {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},
     {SIGSEGV, "SEGV"},     {SIGUSR2, "USR2"},   {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"}, {SIGTERM, "TERM"},
#ifdef SIGSTKFLT
     {SIGSTKFLT, "STKFLT"},
#endif
     {SIGCHLD, "CHLD"},     {SIGCONT, "CONT"},   {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"}, {SIGTTIN, "TTIN"},
     {SIGTTOU, "TTOU"},     {SIGURG, "URG"},     {SIGXCPU, "XCPU"}, {SIGXFSZ, "XFSZ"}, {SIGVTALRM, "VTALRM"},
     {SIGPROF, "PROF"},     {SIGWINCH, "WINCH"}, {SIGIO, "IO"},     {SIGPWR, "PWR"},   {SIGSYS, "SYS"}});

// Aliases systemd does not take, and the name to write instead.
constexpr auto kSignalAliases = std::to_array<std::pair<std::string_view, std::string_view>>(
    {{"IOT", "SIGABRT"}, {"POLL", "SIGIO"}, {"CLD", "SIGCHLD"}, {"UNUSED", "SIGSYS"}});

Result<int> parse_signal_exact(std::string_view text) {
    if (text.empty()) {
        return Result<int>::fail("empty value (write a signal such as SIGTERM)");
    }
    // 1. A number.
    auto number = parse_c_int(text);
    if (number) {
        if (*number < 1 || *number > kMaxSignal) {
            return Result<int>::fail("signal number must be between 1 and " + std::to_string(kMaxSignal));
        }
        return Result<int>::ok(*number);
    }
    if (number.error() != "expected a number") {
        return Result<int>::fail("signal number must be between 1 and " + std::to_string(kMaxSignal));
    }
    // 2. A name, "SIG" optional.
    std::string_view name = text.starts_with("SIG") ? text.substr(3) : text;
    for (const SignalName& signal : kSignalNames) {
        if (signal.name == name) {
            return Result<int>::ok(signal.signo);
        }
    }
    // 3. A real-time signal counted from either end; the range is fixed at run time by the C library.
    const int rt_span = SIGRTMAX - SIGRTMIN;
    const std::string rt_range = "(use SIGRTMIN+0 to SIGRTMIN+" + std::to_string(rt_span) + ", or SIGRTMAX-" +
                                 std::to_string(rt_span) + " to SIGRTMAX-0)";
    for (bool from_min : {true, false}) {
        std::string_view base = from_min ? "RTMIN" : "RTMAX";
        if (!name.starts_with(base)) {
            continue;
        }
        std::string_view offset_text = name.substr(base.size());
        if (offset_text.empty()) {
            return Result<int>::ok(from_min ? SIGRTMIN : SIGRTMAX);
        }
        auto offset = parse_c_int(offset_text);
        if (offset_text[0] != (from_min ? '+' : '-') || !offset) {
            return Result<int>::fail("invalid real-time signal " + quoted(text) + " " + rt_range);
        }
        if (from_min ? (*offset < 0 || *offset > rt_span) : (*offset > 0 || *offset < -rt_span)) {
            return Result<int>::fail("real-time signal out of range " + rt_range);
        }
        return Result<int>::ok((from_min ? SIGRTMIN : SIGRTMAX) + *offset);
    }
    for (const auto& [alias, replacement] : kSignalAliases) {
        if (name == alias) {
            return Result<int>::fail("unknown signal " + quoted(text) + " (write " + quoted(replacement) +
                                     ")");
        }
    }
    return Result<int>::fail("unknown signal " + quoted(text) +
                             " (use a name such as SIGTERM or TERM, SIGRTMIN+N, or a number 1.." +
                             std::to_string(kMaxSignal) + ")");
}

}  // namespace

Result<int> parse_signal(std::string_view text) {
    auto signo = parse_signal_exact(text);
    if (!signo && signo.error().starts_with("unknown signal")) {
        // Names are case-sensitive in systemd; point at the spelling that works.
        const std::string upper = uppercase(text);
        if (upper != text && parse_signal_exact(upper)) {
            const std::string canonical = upper.starts_with("SIG") ? upper : "SIG" + upper;
            return Result<int>::fail("unknown signal " + quoted(text) +
                                     " (signal names are case-sensitive: write " + quoted(canonical) + ")");
        }
    }
    return signo;
}

std::string signal_name(int signo) {
    for (const SignalName& signal : kSignalNames) {
        if (signal.signo == signo) {
            return "SIG" + std::string(signal.name);
        }
    }
    if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
        return "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
    }
    return std::to_string(signo);
}

// ---- Exit statuses -----------------------------------------------------------------------------------

namespace {

// The exit status names systemd 252 accepts (systemd-analyze exit-status): C, LSB, BSD sysexits.h and
// systemd's own codes.
constexpr auto kExitStatusNames =
    std::to_array<std::pair<std::string_view, int>>({{"SUCCESS", 0},
                                                     {"FAILURE", 1},
                                                     {"INVALIDARGUMENT", 2},
                                                     {"NOTIMPLEMENTED", 3},
                                                     {"NOPERMISSION", 4},
                                                     {"NOTINSTALLED", 5},
                                                     {"NOTCONFIGURED", 6},
                                                     {"NOTRUNNING", 7},
                                                     {"USAGE", 64},
                                                     {"DATAERR", 65},
                                                     {"NOINPUT", 66},
                                                     {"NOUSER", 67},
                                                     {"NOHOST", 68},
                                                     {"UNAVAILABLE", 69},
                                                     {"SOFTWARE", 70},
                                                     {"OSERR", 71},
                                                     {"OSFILE", 72},
                                                     {"CANTCREAT", 73},
                                                     {"IOERR", 74},
                                                     {"TEMPFAIL", 75},
                                                     {"PROTOCOL", 76},
                                                     {"NOPERM", 77},
                                                     {"CONFIG", 78},
                                                     {"CHDIR", 200},
                                                     {"NICE", 201},
                                                     {"FDS", 202},
                                                     {"EXEC", 203},
                                                     {"MEMORY", 204},
                                                     {"LIMITS", 205},
                                                     {"OOM_ADJUST", 206},
                                                     {"SIGNAL_MASK", 207},
                                                     {"STDIN", 208},
                                                     {"STDOUT", 209},
                                                     {"CHROOT", 210},
                                                     {"IOPRIO", 211},
                                                     {"TIMERSLACK", 212},
                                                     {"SECUREBITS", 213},
                                                     {"SETSCHEDULER", 214},
                                                     {"CPUAFFINITY", 215},
                                                     {"GROUP", 216},
                                                     {"USER", 217},
                                                     {"CAPABILITIES", 218},
                                                     {"CGROUP", 219},
                                                     {"SETSID", 220},
                                                     {"CONFIRM", 221},
                                                     {"STDERR", 222},
                                                     {"PAM", 224},
                                                     {"NETWORK", 225},
                                                     {"NAMESPACE", 226},
                                                     {"NO_NEW_PRIVILEGES", 227},
                                                     {"SECCOMP", 228},
                                                     {"SELINUX_CONTEXT", 229},
                                                     {"PERSONALITY", 230},
                                                     {"APPARMOR", 231},
                                                     {"ADDRESS_FAMILIES", 232},
                                                     {"RUNTIME_DIRECTORY", 233},
                                                     {"CHOWN", 235},
                                                     {"SMACK_PROCESS_LABEL", 236},
                                                     {"KEYRING", 237},
                                                     {"STATE_DIRECTORY", 238},
                                                     {"CACHE_DIRECTORY", 239},
                                                     {"LOGS_DIRECTORY", 240},
                                                     {"CONFIGURATION_DIRECTORY", 241},
                                                     {"NUMA_POLICY", 242},
                                                     {"CREDENTIALS", 243},
                                                     {"BPF", 244},
                                                     {"EXCEPTION", 255}});

void sort_unique(std::vector<int>& values) {
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace

Result<ExitStatusSet> parse_exit_status_set(std::string_view text) {
    // As systemd's config_parse_set_status, except that one bad word fails the whole value (systemd drops
    // just that word): names first, then numbers (always exit codes), then signal names.
    ExitStatusSet set;
    size_t pos = 0;
    while ((pos = skip_blanks(text, pos)) < text.size()) {
        size_t end = pos;
        while (end < text.size() && !is_blank(text[end])) {
            ++end;
        }
        std::string_view word = text.substr(pos, end - pos);
        pos = end;

        auto named = std::find_if(kExitStatusNames.begin(), kExitStatusNames.end(),
                                  [&](const auto& entry) { return entry.first == word; });
        if (named != kExitStatusNames.end()) {
            set.statuses.push_back(named->second);
            continue;
        }
        auto number = parse_c_number(word);
        if (number || number.error() != "expected a number") {
            if (!number || (number->negative && number->magnitude != 0) || number->magnitude > 255) {
                return Result<ExitStatusSet>::fail("exit status " + quoted(word) +
                                                   " out of range (must be between 0 and 255)");
            }
            set.statuses.push_back(static_cast<int>(number->magnitude));
            continue;
        }
        auto signo = parse_signal(word);
        if (!signo) {
            return Result<ExitStatusSet>::fail("unknown exit status or signal " + quoted(word) +
                                               " (use a number 0..255, a name such as TEMPFAIL, or a signal "
                                               "such as SIGKILL)");
        }
        set.signals.push_back(*signo);
    }
    sort_unique(set.statuses);
    sort_unique(set.signals);
    return Result<ExitStatusSet>::ok(set);
}

// ---- Resource limits (systemd's rlimit_parse) --------------------------------------------------------

namespace {

enum class RLimitSyntax { Count, Bytes, Seconds, Usec, Nice };

constexpr auto kRLimits =
    std::to_array<std::pair<std::string_view, RLimitSyntax>>({{"CPU", RLimitSyntax::Seconds},
                                                              {"FSIZE", RLimitSyntax::Bytes},
                                                              {"DATA", RLimitSyntax::Bytes},
                                                              {"STACK", RLimitSyntax::Bytes},
                                                              {"CORE", RLimitSyntax::Bytes},
                                                              {"RSS", RLimitSyntax::Bytes},
                                                              {"NOFILE", RLimitSyntax::Count},
                                                              {"AS", RLimitSyntax::Bytes},
                                                              {"NPROC", RLimitSyntax::Count},
                                                              {"MEMLOCK", RLimitSyntax::Bytes},
                                                              {"LOCKS", RLimitSyntax::Count},
                                                              {"SIGPENDING", RLimitSyntax::Count},
                                                              {"MSGQUEUE", RLimitSyntax::Bytes},
                                                              {"NICE", RLimitSyntax::Nice},
                                                              {"RTPRIO", RLimitSyntax::Count},
                                                              {"RTTIME", RLimitSyntax::Usec}});

// Nice levels: "+N" is 0..19 and "-N" is -20..0 (stored as 20 - nice); a bare number is the raw 0..40.
Result<uint64_t> parse_rlimit_nice(std::string_view text) {
    const std::string_view kRange = "(use a nice level -20..+19 with its sign, or a raw limit 0..40)";
    const bool has_sign = text.starts_with('+') || text.starts_with('-');
    auto number = parse_c_unsigned(has_sign ? text.substr(1) : text);
    if (!number) {
        return Result<uint64_t>::fail("expected a nice level or a number " + std::string(kRange));
    }
    if (text.starts_with('+')) {
        if (*number >= 20) {
            return Result<uint64_t>::fail("nice level out of range " + std::string(kRange));
        }
        return Result<uint64_t>::ok(20 - *number);
    }
    if (text.starts_with('-')) {
        if (*number > 20) {
            return Result<uint64_t>::fail("nice level out of range " + std::string(kRange));
        }
        return Result<uint64_t>::ok(20 + *number);
    }
    if (*number > 40) {
        return Result<uint64_t>::fail("value out of range " + std::string(kRange));
    }
    return Result<uint64_t>::ok(*number);
}

Result<uint64_t> parse_rlimit_value(RLimitSyntax syntax, std::string_view text) {
    if (text.empty()) {
        return Result<uint64_t>::fail("empty limit (write a number, 'infinity' or 'soft:hard')");
    }
    if (syntax == RLimitSyntax::Nice) {
        return parse_rlimit_nice(text);
    }
    if (text == "infinity") {
        return Result<uint64_t>::ok(kInfinity);
    }
    Result<uint64_t> value = Result<uint64_t>::fail("");
    switch (syntax) {
        case RLimitSyntax::Count:
            value = parse_c_unsigned(text);
            if (!value && value.error() == "expected a number") {
                return Result<uint64_t>::fail("expected a number or 'infinity' (no suffixes for this limit)");
            }
            break;
        case RLimitSyntax::Bytes:
            value = parse_bytes(text);
            break;
        case RLimitSyntax::Seconds:
            value = parse_timespan(text, kUsecPerSec);
            if (value && *value != kInfinity) {
                // setrlimit counts whole seconds; systemd rounds up so that a limit never shrinks to 0.
                value = Result<uint64_t>::ok(*value / kUsecPerSec + (*value % kUsecPerSec != 0 ? 1 : 0));
            }
            return value;
        case RLimitSyntax::Usec:
            return parse_timespan(text, 1);
        case RLimitSyntax::Nice:
            break;
    }
    if (value && *value == kInfinity) {
        return Result<uint64_t>::fail("value too large (use 'infinity' for no limit)");
    }
    return value;
}

}  // namespace

Result<RLimit> parse_rlimit(std::string_view key, std::string_view text) {
    std::string_view resource = key;
    for (std::string_view prefix : {"Limit", "RLIMIT_"}) {
        if (resource.starts_with(prefix)) {
            resource.remove_prefix(prefix.size());
            break;
        }
    }
    auto entry = std::find_if(kRLimits.begin(), kRLimits.end(),
                              [&](const auto& candidate) { return candidate.first == resource; });
    if (entry == kRLimits.end()) {
        return Result<RLimit>::fail("unknown resource limit " + quoted(key));
    }
    const RLimitSyntax syntax = entry->second;

    // "soft" or "soft:hard". Like systemd, a trailing ':' after the hard limit is tolerated ("5:6:").
    const size_t colon = text.find(':');
    std::string_view soft_text = text.substr(0, colon);
    std::string_view hard_text = soft_text;
    if (colon != std::string_view::npos) {
        std::string_view rest = text.substr(colon + 1);
        const size_t second = rest.find(':');
        hard_text = rest.substr(0, second);
        if (second != std::string_view::npos && second + 1 != rest.size()) {
            return Result<RLimit>::fail("expected one value or 'soft:hard', not three");
        }
    }
    auto soft = parse_rlimit_value(syntax, soft_text);
    if (!soft) {
        return Result<RLimit>::fail(soft.error());
    }
    auto hard = parse_rlimit_value(syntax, hard_text);
    if (!hard) {
        return Result<RLimit>::fail(hard.error());
    }
    if (*soft > *hard) {
        return Result<RLimit>::fail(
            "soft limit is above the hard limit (write 'soft:hard' with soft <= hard)");
    }
    return Result<RLimit>::ok(RLimit{*soft, *hard});
}

std::string format_rlimit(const RLimit& limit) {
    auto text = [](uint64_t value) {
        return value == kInfinity ? std::string("infinity") : std::to_string(value);
    };
    if (limit.soft == limit.hard) {
        return text(limit.soft);
    }
    return text(limit.soft) + ":" + text(limit.hard);
}

}  // namespace gitvisor::unitfile
