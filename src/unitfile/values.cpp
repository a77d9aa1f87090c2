#include "unitfile/values.h"

// Each parser follows the systemd 252 function that reads the same setting (named in its comment), so
// that a unit file means the same under gitvisor as under systemd, down to the odd corners ("010" is
// octal in a count but decimal in a size). Checked against systemd-analyze 252.

#include <algorithm>
#include <climits>

#include "unitfile/values_internal.h"

namespace gitvisor::unitfile {

using namespace detail;

namespace {

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

}  // namespace

// ---- Helpers shared by the values*.cpp files (values_internal.h) ------------------------------------

namespace detail {

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), to_lower);
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

}  // namespace detail

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

}  // namespace gitvisor::unitfile
