#pragma once
// Pull-based reading of whole logs, for `gitvisor logs` without -n: the lines are handed out one at a time
// as they are read, so what a reader holds is one block per unit, whatever the size of the logs.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "daemon/logs/log_files.h"
#include "daemon/logs/log_line.h"
#include "daemon/logs/log_reader.h"

namespace gitvisor::daemon::logs {

// Reads the matching lines of one unit's log forward, oldest first, a block at a time: memory stays bounded
// (one 64 KiB block, plus one line) however long the log is. Files are those present when the cursor is made
// (same discovery and ordering rules as read_log, opened at construction so a rotation meanwhile loses
// nothing). Lines are filtered, never a reason to stop early: a unit's clock may go back.
class LogCursor {
public:
    LogCursor(const std::string& dir, const LogQuery& query);  // query.tail is ignored
    std::optional<LogLine> next();                             // nullopt at the end
    // Valid once next() returned nullopt: where a LogFollower continues (as LogRead::end).
    LogPosition end() const { return m_end; }
    // The memory the cursor holds for the bytes read (for tests of its bound).
    size_t buffered_bytes() const { return m_buffer.capacity(); }

private:
    void finish_file();

    LogQuery m_query;
    std::vector<detail::OpenLogFile> m_files;  // oldest first; each closed once read
    size_t m_file = 0;                         // the one being read
    uint64_t m_offset = 0;                     // of the next byte to read from it
    detail::LineBuffer m_buffer;
    LogPosition m_end;
};

// K-way merge of several units' cursors by time, one line at a time: the same order as merge_by_time (ties:
// the unit given first; each unit's lines in their own order even if its clock went back).
class MergedCursor {
public:
    explicit MergedCursor(std::vector<std::pair<std::string, std::unique_ptr<LogCursor>>> units);
    std::optional<UnitLine> next();  // nullopt at the end
    // The end() of the unit at `index` in the order given; valid once next() returned nullopt.
    LogPosition end(size_t index) const { return m_units[index].cursor->end(); }

private:
    struct Unit {
        std::string name;
        std::unique_ptr<LogCursor> cursor;
        std::optional<LogLine> line;  // its next line, not yet handed out
    };
    void advance(size_t index);

    std::vector<Unit> m_units;
    // The units with a next line, as (its time, index): the smallest comes first.
    using Head = std::pair<int64_t, size_t>;
    std::priority_queue<Head, std::vector<Head>, std::greater<Head>> m_heads;
};

}  // namespace gitvisor::daemon::logs
