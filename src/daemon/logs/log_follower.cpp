#include "daemon/logs/log_follower.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

namespace gitvisor::daemon::logs {
namespace {

using detail::UniqueFd;

constexpr uint32_t kWatchMask = IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE |
                                IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
constexpr uint32_t kParentMask = IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// A watched folder itself went away (IN_IGNORED: the watch is gone with it).
constexpr uint32_t kGoneMask = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT;
// Listings tried before giving up until the next call, while a fast writer keeps rotating.
constexpr int kSnapshotTries = 10;

struct FoundFile {
    detail::LogFileName name;
    struct stat st;
};
using Snapshot = std::vector<FoundFile>;

// The log files of `dir` with what stat() says of them, oldest first.
Snapshot stat_log_files(const std::string& dir) {
    Snapshot found;
    for (detail::LogFileName& name : detail::list_log_files(dir)) {
        if (const auto st = detail::stat_file(dir, name.name)) found.push_back({std::move(name), *st});
    }
    return found;
}

bool same_files(const Snapshot& a, const Snapshot& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const FoundFile& x, const FoundFile& y) {
        return x.name.index == y.name.index && x.st.st_ino == y.st.st_ino;
    });
}

// The log files of `dir` as they all were at one instant. One listing stats the names one after another
// while gitvisor-exec may be renaming them, so it can show a file twice or not at all. But a file only
// ever moves to a higher number, never back: a name that holds the same file in two listings held it all
// along in between, and two equal listings are the folder as it was when the second one began. That may
// be in the middle of a rotation, with one name missing; the order of the files is still right.
// nullopt when rotations keep two listings from agreeing.
std::optional<Snapshot> snapshot(const std::string& dir) {
    Snapshot last = stat_log_files(dir);
    for (int attempt = 0; attempt < kSnapshotTries; ++attempt) {
        Snapshot again = stat_log_files(dir);
        if (same_files(last, again)) return again;
        last = std::move(again);
    }
    return std::nullopt;
}

bool older(const timespec& a, const timespec& b) {
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

// Opens `file` if its name still holds the same inode; an empty UniqueFd otherwise.
UniqueFd open_same(const std::string& dir, const FoundFile& file) {
    UniqueFd fd = detail::open_file(dir, file.name.name);
    struct stat st {};
    if (fd && (::fstat(fd.get(), &st) != 0 || st.st_ino != file.st.st_ino)) fd.reset();
    return fd;
}

}  // namespace

LogFollower::LogFollower(std::string dir, LogPosition from) : m_dir(std::move(dir)), m_from(from) {}

LogFollower::~LogFollower() = default;

int LogFollower::fd() const { return m_inotify.get(); }

Result<bool> LogFollower::start() {
    m_inotify.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (m_inotify) m_dir_watch = ::inotify_add_watch(m_inotify.get(), m_dir.c_str(), kWatchMask);
    if (m_dir_watch < 0) {
        const int err = errno;
        m_inotify.reset();
        return Result<bool>::fail("cannot watch '" + m_dir + "': " + std::strerror(err));
    }
    std::filesystem::path path = std::filesystem::path(m_dir).lexically_normal();
    if (!path.has_filename()) path = path.parent_path();  // "logs/web.service/"
    m_name = path.filename().string();
    if (!m_name.empty() && m_name != "." && m_name != "..") {
        const std::filesystem::path parent = path.has_parent_path() ? path.parent_path() : ".";
        m_parent_watch = ::inotify_add_watch(m_inotify.get(), parent.c_str(), kParentMask);
    }
    // From here on every change wakes fd(), so nothing written after this look is missed.
    if (m_from.inode == 0) {
        // The reader found no `current`: it read the rotated files there were, and `current` is new.
        const std::optional<Snapshot> files = snapshot(m_dir);
        for (const FoundFile& file : files ? *files : stat_log_files(m_dir)) {
            if (file.name.index != 0) m_read_before.push_back(file.st.st_ino);
        }
    }
    open_first();
    return Result<bool>::ok(true);
}

std::vector<LogLine> LogFollower::read_new() {
    std::vector<LogLine> lines;
    m_more = false;
    m_unsettled = false;
    if (m_ended || !m_inotify) return lines;
    read_events();

    size_t bytes = 0;
    const auto full = [&] { return lines.size() >= kMaxLinesPerRead || bytes >= kMaxBytesPerRead; };
    while (!full()) {
        // 1. The complete lines already read.
        if (const auto text = m_buffer.next()) {
            if (auto line = parse_log_line(*text)) {
                bytes += text->size();
                lines.push_back(std::move(*line));
            }
            continue;
        }
        // 2. More of the file being read.
        if (!m_file) {
            if (m_gone || !open_first()) break;
            continue;
        }
        if (const ssize_t n = m_buffer.read_from(m_file.get(), m_offset); n > 0) {
            m_offset += static_cast<uint64_t>(n);
            continue;
        }
        // 3. At its end: wait for more, unless `current` is another file now.
        if (m_gone) break;
        struct stat st {};
        if (::fstat(m_file.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) < m_offset) {
            switch_to(std::move(m_file), m_inode, 0);  // truncated: read it again from the start
            continue;
        }
        if (!m_rotated) {
            const auto current = detail::stat_file(m_dir, "current");
            if (current && current->st_ino == m_inode) break;
            m_rotated = true;  // one more read first: the lines written before the rename
            continue;
        }
        if (!advance()) break;
    }
    if (m_gone && !full()) finish();
    m_more = !m_ended && (full() || m_unsettled);
    return lines;
}

void LogFollower::read_events() {
    alignas(inotify_event) char buf[4096];
    for (;;) {
        const ssize_t n = ::read(m_inotify.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        for (ssize_t at = 0; at < n;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buf + at);
            if (event->wd == m_dir_watch && (event->mask & kGoneMask)) m_gone = true;
            if (event->wd == m_parent_watch && m_parent_watch >= 0) {
                const bool folder = (event->mask & (IN_DELETE | IN_MOVED_FROM)) && (event->mask & IN_ISDIR) &&
                                    event->len > 0 && m_name == event->name;
                if (folder || (event->mask & kGoneMask)) m_gone = true;
            }
            at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        }
    }
}

// No file open yet: the one `from` names, wherever rotation has moved it since the read; when it is gone
// (or with from.inode 0), the oldest file not read before start().
bool LogFollower::open_first() {
    const std::optional<Snapshot> files = snapshot(m_dir);
    if (!files) {
        m_unsettled = true;
        return false;
    }
    if (m_from.inode != 0) {
        const auto from = std::find_if(files->begin(), files->end(),
                                       [&](const FoundFile& file) { return file.st.st_ino == m_from.inode; });
        if (from != files->end()) {
            UniqueFd fd = open_same(m_dir, *from);
            if (!fd) {
                m_unsettled = true;  // renamed right then: look again
                return false;
            }
            const auto size = static_cast<uint64_t>(from->st.st_size);
            switch_to(std::move(fd), m_from.inode, m_from.offset <= size ? m_from.offset : 0);
            return true;
        }
    }
    for (const FoundFile& file : *files) {
        if (std::find(m_read_before.begin(), m_read_before.end(), file.st.st_ino) != m_read_before.end())
            continue;
        UniqueFd fd = open_same(m_dir, file);
        if (!fd) {
            m_unsettled = true;
            return false;
        }
        switch_to(std::move(fd), file.st.st_ino, 0);
        m_read_before.clear();
        return true;
    }
    return false;
}

// The file after the one read to its end (m_inode), in a snapshot of the folder:
//   1. it is current.k: the next is the newest existing name before it (current.(k-1), ..., current);
//      none yet when `current` is between its rename and its creation;
//   2. it is gone from the folder (rotated out, or removed when no rotated file is kept): the next is the
//      oldest file written to since it was last.
bool LogFollower::advance() {
    const std::optional<Snapshot> files = snapshot(m_dir);
    if (!files) {
        m_unsettled = true;
        return false;
    }
    const auto self = std::find_if(files->begin(), files->end(),
                                   [&](const FoundFile& file) { return file.st.st_ino == m_inode; });
    const FoundFile* next = nullptr;
    if (self != files->end()) {
        if (self->name.index == 0) {
            m_rotated = false;  // still `current` after all: wait for more
            return false;
        }
        if (self + 1 == files->end()) return false;
        next = &*(self + 1);
    } else {
        struct stat own {};
        if (::fstat(m_file.get(), &own) != 0) return false;
        const auto written_since = [&](const FoundFile& file) {
            return !older(file.st.st_mtim, own.st_mtim);
        };
        const auto found = std::find_if(files->begin(), files->end(), written_since);
        if (found == files->end()) return false;
        next = &*found;
    }
    UniqueFd fd = open_same(m_dir, *next);
    if (!fd) {
        m_unsettled = true;  // renamed right then: look again
        return false;
    }
    switch_to(std::move(fd), next->st.st_ino, 0);
    return true;
}

void LogFollower::switch_to(UniqueFd file, uint64_t inode, uint64_t offset) {
    m_file = std::move(file);
    m_inode = inode;
    m_offset = offset;
    m_buffer.clear();
    m_rotated = false;
}

void LogFollower::finish() {
    m_ended = true;
    m_file.reset();
    m_buffer.clear();
}

}  // namespace gitvisor::daemon::logs
