#include "unitfile/values.h"

// Limit*= values for setrlimit, as systemd's rlimit_parse() reads them.

#include <algorithm>
#include <array>
#include <utility>

#include "unitfile/values_internal.h"

namespace gitvisor::unitfile {

using namespace detail;

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
