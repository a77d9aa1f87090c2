#include "daemon/logs/log_reader.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <string_view>
#include <unordered_set>

#include "daemon/logs/log_cursor.h"
#include "daemon/logs/log_files.h"

namespace gitvisor::daemon::logs {
namespace {

// Calls on_line(line) for each complete line of `file`, newest first, while it returns true; reads the
// file backwards in blocks. Returns the offset just past the last complete line.
uint64_t read_backward(const detail::OpenLogFile& file,
                       const std::function<bool(std::string_view)>& on_line) {
    uint64_t pos = file.size;
    uint64_t complete_end = 0;
    bool at_end = true;     // looking for the last newline: what follows it is a line still being written
    bool skipping = false;  // in an overlong line: dropped back to the newline before it
    std::string data;
    std::string carry;  // the end of a line that starts in an earlier block, with its newline
    while (pos > 0) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(detail::kChunkBytes, pos));
        pos -= n;
        data.resize(n);
        if (!detail::read_exactly(file.fd.get(), data.data(), n, pos)) break;
        data += carry;
        carry.clear();
        size_t end = data.size();
        if (at_end || skipping) {
            const size_t newline = data.rfind('\n');
            if (newline == std::string::npos) continue;
            if (at_end) complete_end = pos + newline + 1;
            at_end = skipping = false;
            end = newline + 1;
        }
        // data[0, end) ends with a newline; each line is taken back to the newline before it.
        size_t line_end = end - 1;
        for (;;) {
            const size_t before = line_end == 0 ? std::string::npos : data.rfind('\n', line_end - 1);
            if (before == std::string::npos) {
                if (pos == 0) {
                    on_line(std::string_view(data).substr(0, line_end));
                } else if (line_end + 1 > detail::kMaxLineBytes) {
                    skipping = true;
                } else {
                    carry.assign(data, 0, line_end + 1);
                }
                break;
            }
            if (!on_line(std::string_view(data).substr(before + 1, line_end - before - 1)))
                return complete_end;
            line_end = before;
        }
    }
    return complete_end;
}

}  // namespace

bool matches(const LogLine& line, const LogQuery& query) {
    if (query.since_usec && line.time_usec < *query.since_usec) return false;
    if (query.until_usec && line.time_usec > *query.until_usec) return false;
    if (!query.invocation.empty() && line.invocation != query.invocation) return false;
    if (!query.stream.empty() && line.stream != query.stream) return false;
    return true;
}

LogRead read_log(const std::string& dir, const LogQuery& query) {
    LogRead result;
    if (query.tail == 0) {
        LogCursor cursor(dir, query);
        while (auto line = cursor.next()) result.lines.push_back(std::move(*line));
        result.end = cursor.end();
        return result;
    }

    // The tail: newest file first, each backwards, collected newest first and turned round at the end.
    const std::vector<detail::OpenLogFile> files = detail::open_log_files(dir);
    bool done = false;
    for (auto file = files.rbegin(); file != files.rend() && !done; ++file) {
        const uint64_t end = read_backward(*file, [&](std::string_view text) {
            auto line = parse_log_line(text);
            if (!line) return true;
            if (query.since_usec && line->time_usec < *query.since_usec) {
                done = true;
                return false;
            }
            if (matches(*line, query)) result.lines.push_back(std::move(*line));
            done = result.lines.size() >= query.tail;
            return !done;
        });
        if (file->current) result.end = {file->inode, end};
    }
    std::reverse(result.lines.begin(), result.lines.end());
    return result;
}

std::vector<std::string> log_invocations(const std::string& dir) {
    std::vector<std::string> invocations;
    std::unordered_set<std::string> seen;
    LogCursor cursor(dir, LogQuery{});
    while (auto line = cursor.next())
        if (seen.insert(line->invocation).second) invocations.push_back(std::move(line->invocation));
    return invocations;
}

std::vector<UnitLine> merge_by_time(
    const std::vector<std::pair<std::string, std::vector<LogLine>>>& per_unit) {
    size_t total = 0;
    for (const auto& unit : per_unit) total += unit.second.size();
    std::vector<UnitLine> merged;
    merged.reserve(total);

    // One head per unit (the time of its next line, its index): the smallest time goes first, and of equal
    // times the unit given first; a unit's next line only enters once the one before it is out.
    using Head = std::pair<int64_t, size_t>;
    std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
    std::vector<size_t> next(per_unit.size(), 0);
    for (size_t unit = 0; unit < per_unit.size(); ++unit) {
        if (!per_unit[unit].second.empty()) heads.push({per_unit[unit].second.front().time_usec, unit});
    }
    while (!heads.empty()) {
        const size_t unit = heads.top().second;
        heads.pop();
        const std::vector<LogLine>& lines = per_unit[unit].second;
        merged.push_back({per_unit[unit].first, lines[next[unit]]});
        if (++next[unit] < lines.size()) heads.push({lines[next[unit]].time_usec, unit});
    }
    return merged;
}

}  // namespace gitvisor::daemon::logs
