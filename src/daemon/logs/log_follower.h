#pragma once
// LogFollower: `gitvisor logs -f` for one unit. Watches the unit's log folder with inotify and reads what
// gitvisor-exec appends, complete lines only, each once and in order:
//   - the file being read is kept open by descriptor and known by inode, so a rotation (current ->
//     current.1, new current) is followed by reading the renamed file to its end, then the next newer one
//     from its start;
//   - a restarted unit's new gitvisor-exec appends to the same `current`: nothing to do;
//   - a line still being written is held back until its newline arrives (an incomplete last line of a
//     rotated file, which gitvisor-exec does not leave, is dropped);
//   - the folder removed (or moved away) ends the follow, after what was already written. Its parent is
//     watched too: the folder's own IN_DELETE_SELF only comes once nothing holds a file of it open, and the
//     follower itself (or a unit still writing) does.
// Nothing blocks: the owner polls fd() and calls read_new().

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "daemon/logs/log_files.h"
#include "daemon/logs/log_line.h"

namespace gitvisor::daemon::logs {

// Follows a unit's log from `from` (usually read_log(...).end): new complete lines as they are appended,
// across rotation (the rest of the renamed file first, then the new `current`) and across a missing `current`
// that appears later. Uses inotify on `dir` (IN_MODIFY, IN_CREATE, IN_MOVED_FROM/TO, IN_DELETE_SELF...),
// non-blocking.
class LogFollower {
public:
    // read_new() returns at most this many lines, or about this many bytes of text, per call.
    static constexpr size_t kMaxLinesPerRead = 4096;
    static constexpr size_t kMaxBytesPerRead = 1024 * 1024;

    LogFollower(std::string dir, LogPosition from);
    ~LogFollower();  // closes its descriptors
    LogFollower(const LogFollower&) = delete;
    LogFollower& operator=(const LogFollower&) = delete;

    // Watches `dir` and finds where to go on: the file `from` names, even if rotated since (then the newer
    // files follow); when it is gone, the oldest file. With from.inode 0 (the reader found no `current`),
    // the rotated files there now count as read, and `current` is read from its start when it appears.
    // Error text when inotify cannot watch `dir` (e.g. it does not exist).
    Result<bool> start();
    int fd() const;  // readable when there may be something new (the inotify fd), for poll()
    // Reads what is new (complete lines only), never blocking. Call after fd() was readable, or at any time.
    // Lines without the format are skipped.
    std::vector<LogLine> read_new();
    // Call read_new() again without waiting for fd(): the last call stopped at its limit, or a writer
    // rotating very fast kept it from telling which file comes next.
    bool more() const { return m_more; }
    bool ended() const { return m_ended; }  // the folder was removed (or moved away): nothing more will come

private:
    void read_events();
    bool open_first();
    bool advance();
    void switch_to(detail::UniqueFd file, uint64_t inode, uint64_t offset);
    void finish();

    std::string m_dir;
    LogPosition m_from;
    detail::UniqueFd m_inotify;
    int m_dir_watch = -1;
    int m_parent_watch = -1;  // -1 when the parent cannot be watched: then only the folder's own events
    std::string m_name;       // of the folder in its parent
    detail::UniqueFd m_file;  // the file being read, kept across its renames
    uint64_t m_inode = 0;
    uint64_t m_offset = 0;  // of the next byte to read from m_file
    detail::LineBuffer m_buffer;
    std::vector<uint64_t> m_read_before;  // files read before start(): not to be read again
    bool m_rotated = false;               // m_file is not `current` any more: read to its end, then on
    bool m_gone = false;                  // the folder went away: read what is left, then end
    bool m_ended = false;
    bool m_more = false;
    bool m_unsettled = false;  // this read_new() could not get a settled listing of the folder
};

}  // namespace gitvisor::daemon::logs
