#pragma once
// Reading a unit's log (DESIGN §5) for `gitvisor logs`: the folder <state-dir>/logs/<unit>/ holds, oldest
// first, current.K, ..., current.2, current.1 and current (any may be missing), one line per output line
// (log_line.h). gitvisor-exec appends to `current` and rotates by rename; a line is never split across
// files, but the last line of `current` may still be being written and is then left out.
//
// Memory stays bounded by what is asked for, not by the size of the log: files are read in 64 KiB
// blocks, and a tail reads them backwards from the newest and stops once it has its lines. A whole log is
// better read with a LogCursor (log_cursor.h), which hands out one line at a time.
//
// This header is the library's hub: it also brings LogFollower (log_follower.h), for `logs -f`.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/logs/log_follower.h"
#include "daemon/logs/log_line.h"

namespace gitvisor::daemon::logs {

struct LogQuery {
    std::optional<int64_t> since_usec;  // lines with time >= since
    std::optional<int64_t> until_usec;  // lines with time <= until
    std::string invocation;             // "" = any
    std::string stream;                 // "" = any
    size_t tail = 0;                    // 0: every matching line; N: only the last N matching
};

bool matches(const LogLine& line, const LogQuery& query);  // the filters of `query` (not its tail)

struct LogRead {
    std::vector<LogLine> lines;  // oldest first
    LogPosition end;             // of `current`, for a LogFollower
};
// Reads the matching lines of the log in folder `dir` (the files above). A missing folder is an empty result,
// not an error. With tail 0, every matching line, read with a LogCursor (and all held in the result). With
// tail N, reads files from the newest backwards in blocks and stops once N matching lines are found, or at
// the first line older than `since` (a unit's lines are written in time order). Lines without the format are
// skipped.
LogRead read_log(const std::string& dir, const LogQuery& query);

// The invocation ids found in the log, in order of first appearance (oldest first), for `--invocation -1`
// (the previous run). May read every file.
std::vector<std::string> log_invocations(const std::string& dir);

// Merges several units' lines into one list by time; lines of equal time keep their per-unit order, units in
// the given order. Each unit's lines come out in their own order even if its clock went back.
struct UnitLine {
    std::string unit;
    LogLine line;
    bool operator==(const UnitLine&) const = default;
};
std::vector<UnitLine> merge_by_time(
    const std::vector<std::pair<std::string, std::vector<LogLine>>>& per_unit);

}  // namespace gitvisor::daemon::logs
