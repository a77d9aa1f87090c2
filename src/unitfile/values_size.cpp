#include "unitfile/values.h"

// Sizes, percentages, count limits and CPU quotas, as systemd's parse_size(), parse_permyriad() and the
// config_parse_* functions that use them read them.

#include <algorithm>
#include <array>
#include <climits>

#include "unitfile/values_internal.h"

namespace gitvisor::unitfile {

using namespace detail;

namespace {

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

}  // namespace

// A byte count: parts "<number>[.<digits>][ ]<suffix>" added up, suffixes falling ("1G 512M").
Result<uint64_t> detail::parse_bytes(std::string_view text) {
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

}  // namespace gitvisor::unitfile
