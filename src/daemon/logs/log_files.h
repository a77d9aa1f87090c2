#pragma once
// The files of one unit's log folder and the byte-level reading shared by read_log() and LogFollower
// (internal to the logs library). gitvisor-exec rotates by rename, current.(k-1) -> current.k, ...,
// current -> current.1, then creates a new `current`; a file keeps its inode across these renames, so
// files are told apart by inode, never by name.

#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"

namespace gitvisor::daemon::logs::detail {

constexpr size_t kChunkBytes = 64 * 1024;
// gitvisor-exec cuts lines at 64 KiB of text: anything longer than this is not one of its lines and is
// skipped rather than held in memory.
constexpr size_t kMaxLineBytes = 1024 * 1024;

using gitvisor::UniqueFd;

struct LogFileName {
    std::string name;  // "current", "current.3"
    int index = 0;     // 0 for current, k for current.k
};

// The names the log files of `dir` may have, oldest first: current.K, ..., current.1, current; the caller
// skips those missing. readdir() may miss a file that is renamed while it runs, so every number up to two
// past the highest one seen is given, not only those seen. Empty when `dir` is missing. Other names
// (current.tmp, current.01) are not log files.
std::vector<LogFileName> list_log_files(const std::string& dir);

// stat() of dir/name; nullopt when it is missing or not a regular file.
std::optional<struct stat> stat_file(const std::string& dir, const std::string& name);

// Opens dir/name for reading (close-on-exec); an empty UniqueFd when that fails.
UniqueFd open_file(const std::string& dir, const std::string& name);

// One log file opened for a read: the bytes it had when opened are read, and what is appended meanwhile is
// left to a follower (up to one block more may be read).
struct OpenLogFile {
    UniqueFd fd;
    uint64_t inode = 0;
    uint64_t size = 0;  // when opened
    bool current = false;
};

// The log files of `dir`, opened, oldest first, each once. Opened newest first, so that a rotation in
// between shows up as a file seen twice (skipped), not as a file missed; and taken again when `current`
// changed meanwhile (three tries: a log rotating faster than that is read as last found).
std::vector<OpenLogFile> open_log_files(const std::string& dir);

// Reads exactly `size` bytes at `offset` into `out`; false when the file ends sooner or on an error.
bool read_exactly(int fd, char* out, size_t size, uint64_t offset);

// Bytes read forward from a file, handed out as complete lines. A line's bytes stay here until its
// newline arrives, so the last line of a file being written is held back, never returned in halves.
class LineBuffer {
public:
    // Reads up to kChunkBytes at `offset` and keeps them. Returns the bytes read: 0 at the end of the
    // file, -1 on an error.
    ssize_t read_from(int fd, uint64_t offset);
    // The next complete line without its '\n', valid until the next call; nullopt when none is complete.
    std::optional<std::string_view> next();
    // Bytes read but not yet handed out as complete lines (the incomplete last line).
    size_t pending() const { return m_skipping ? 0 : m_data.size() - m_start; }
    // The memory held: one block plus the incomplete line before it, at most about kMaxLineBytes.
    size_t capacity() const { return m_data.capacity(); }
    void clear();

private:
    void drop_consumed();

    std::string m_data;
    size_t m_start = 0;       // of the first byte not handed out
    size_t m_scanned = 0;     // bytes from m_start known to hold no '\n'
    bool m_skipping = false;  // in a line longer than kMaxLineBytes: dropped up to its newline
};

}  // namespace gitvisor::daemon::logs::detail
