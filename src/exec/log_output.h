#pragma once
// The unit's log (DESIGN §5): gitvisor-exec reads the service's stdout and stderr pipes and appends one
// line per output line to the log file, as s6-log does:
//     2026-11-25T13:20:01.123456Z stdout 0123456789abcdef0123456789abcdef the text
// A line longer than kMaxLineBytes is cut into several; a last line without a newline is written when
// its pipe closes. The file is rotated past a size: NAME -> NAME.1 -> NAME.2 ... (the oldest dropped).

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace gitvisor::exec {

constexpr size_t kMaxLineBytes = 64 * 1024;

// "2026-11-25T13:20:01.123456Z" (27 characters) for a CLOCK_REALTIME time in µs.
std::string format_timestamp(int64_t realtime_usec);

// Cuts a byte stream into lines: feed() calls emit(line) for each complete line (without its newline)
// and for each kMaxLineBytes piece of a longer one; finish() emits what is left.
class LineSplitter {
public:
    template <class Emit>
    void feed(std::string_view data, Emit&& emit) {
        while (!data.empty()) {
            const size_t newline = data.find('\n');
            if (newline == std::string_view::npos) {
                take(data, false, emit);
                return;
            }
            take(data.substr(0, newline), true, emit);
            data.remove_prefix(newline + 1);
        }
    }
    template <class Emit>
    void finish(Emit&& emit) {
        if (!m_partial.empty()) emit(std::string_view(m_partial));
        release();
    }
    bool empty() const { return m_partial.empty(); }

private:
    template <class Emit>
    void take(std::string_view piece, bool complete, Emit& emit) {
        if (!m_partial.empty()) {
            const size_t n = std::min(kMaxLineBytes - m_partial.size(), piece.size());
            grow_for(m_partial.size() + n);
            m_partial.append(piece.data(), n);
            piece.remove_prefix(n);
            if (piece.empty()) {
                if (complete) {
                    emit(std::string_view(m_partial));
                    release();
                }
                return;
            }
            emit(std::string_view(m_partial));  // a full piece, and the line goes on
            release();
        }
        // Nothing buffered: whole lines go straight out, without a copy.
        while (piece.size() > kMaxLineBytes) {
            emit(piece.substr(0, kMaxLineBytes));
            piece.remove_prefix(kMaxLineBytes);
        }
        if (complete) {
            emit(piece);
        } else {
            grow_for(piece.size());
            m_partial.assign(piece);
        }
    }
    // A line that outgrows a small buffer gets the largest one at once: one allocation, above the
    // mmap threshold gitvisor-exec sets, so release() hands it straight back to the system.
    void grow_for(size_t size) {
        if (size > 4096 && m_partial.capacity() < kMaxLineBytes) m_partial.reserve(kMaxLineBytes);
    }
    // Gives a large buffer back: a long line must not keep its memory for the life of the service.
    void release() {
        if (m_partial.capacity() > 4096)
            std::string().swap(m_partial);
        else
            m_partial.clear();
    }

    std::string m_partial;
};

// The append-only log file. Writing never fails loudly: a line that cannot be written is counted in
// dropped_lines() and the service carries on.
class LogFile {
public:
    // An empty path makes a log that drops everything. Creates the parent directories. `max_bytes` 0
    // turns rotation off; `keep` rotated files are kept.
    Result<bool> open(const std::string& path, int64_t max_bytes, int64_t keep);
    void write_line(std::string_view stream, std::string_view invocation, std::string_view text,
                    int64_t realtime_usec);
    uint64_t dropped_lines() const { return m_dropped; }

private:
    void rotate();
    Result<bool> reopen();

    UniqueFd m_dir;
    std::string m_name;
    UniqueFd m_fd;
    int64_t m_size = 0;
    int64_t m_max_bytes = 0;
    int64_t m_keep = 0;
    uint64_t m_dropped = 0;
};

}  // namespace gitvisor::exec
