#include "daemon/logs/log_cursor.h"

namespace gitvisor::daemon::logs {

LogCursor::LogCursor(const std::string& dir, const LogQuery& query)
    : m_query(query), m_files(detail::open_log_files(dir)) {}

std::optional<LogLine> LogCursor::next() {
    while (m_file < m_files.size()) {
        // 1. The complete lines already read.
        while (const auto text = m_buffer.next()) {
            auto line = parse_log_line(*text);
            if (line && matches(*line, m_query)) return line;
        }
        // 2. Another block, up to the file's size when opened: what is appended since is the follower's.
        const detail::OpenLogFile& file = m_files[m_file];
        if (m_offset < file.size) {
            const ssize_t n = m_buffer.read_from(file.fd.get(), m_offset);
            if (n > 0) {
                m_offset += static_cast<uint64_t>(n);
                continue;
            }
        }
        // 3. The file is read (or cannot be): on to the next one.
        finish_file();
    }
    return std::nullopt;
}

void LogCursor::finish_file() {
    detail::OpenLogFile& file = m_files[m_file];
    if (file.current) m_end = {file.inode, m_offset - m_buffer.pending()};
    file.fd.reset();
    m_buffer.clear();
    m_offset = 0;
    ++m_file;
}

MergedCursor::MergedCursor(std::vector<std::pair<std::string, std::unique_ptr<LogCursor>>> units) {
    m_units.reserve(units.size());
    for (auto& [name, cursor] : units) m_units.push_back({std::move(name), std::move(cursor), std::nullopt});
    for (size_t index = 0; index < m_units.size(); ++index) advance(index);
}

std::optional<UnitLine> MergedCursor::next() {
    if (m_heads.empty()) return std::nullopt;
    const size_t index = m_heads.top().second;
    m_heads.pop();
    Unit& unit = m_units[index];
    UnitLine out{unit.name, std::move(*unit.line)};
    // A unit's next line only enters once the one before it is out, so its lines keep their order.
    advance(index);
    return out;
}

void MergedCursor::advance(size_t index) {
    Unit& unit = m_units[index];
    unit.line = unit.cursor->next();
    if (unit.line) m_heads.push({unit.line->time_usec, index});
}

}  // namespace gitvisor::daemon::logs
