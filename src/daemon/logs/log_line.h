#pragma once
// One line of a unit's log as gitvisor-exec writes it (exec/log_output.h):
//     2026-11-25T13:20:01.123456Z stdout 0123456789abcdef0123456789abcdef the text
// a 27-character UTC time stamp in µs, the stream ([a-z-]+), the invocation id (any word without a space)
// and the text (any bytes but '\n', possibly empty), each after one space.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gitvisor::daemon::logs {

struct LogLine {
    int64_t time_usec = 0;  // from the timestamp (µs since the epoch, UTC)
    std::string stream;     // stdout, stderr, marker, ...
    std::string invocation;
    std::string text;
    bool operator==(const LogLine&) const = default;
};

// One line without its '\n'; nullopt when it does not have the format (such lines are skipped by readers).
std::optional<LogLine> parse_log_line(std::string_view line);

// Where a reader stopped in a unit's log: the inode and size of `current` as read. A follower continues from
// it.
struct LogPosition {
    uint64_t inode = 0;   // 0: `current` did not exist
    uint64_t offset = 0;  // bytes of complete lines read from it
    bool operator==(const LogPosition&) const = default;
};

}  // namespace gitvisor::daemon::logs
