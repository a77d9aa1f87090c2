#include "daemon/logs/log_files.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

namespace gitvisor::daemon::logs::detail {
namespace {

constexpr std::string_view kCurrent = "current";

// 0 for "current", k for "current.k" (k from 1 to 9999, without leading zeros), -1 for any other name.
int log_file_index(std::string_view name) {
    if (name.substr(0, kCurrent.size()) != kCurrent) return -1;
    name.remove_prefix(kCurrent.size());
    if (name.empty()) return 0;
    if (name[0] != '.' || name.size() < 2 || name.size() > 5 || name[1] == '0') return -1;
    int index = 0;
    for (char c : name.substr(1)) {
        if (c < '0' || c > '9') return -1;
        index = index * 10 + (c - '0');
    }
    return index;
}

std::string path_of(const std::string& dir, const std::string& name) { return dir + "/" + name; }

uint64_t current_inode(const std::string& dir) {
    const auto st = stat_file(dir, "current");
    return st ? st->st_ino : 0;
}

}  // namespace

std::vector<LogFileName> list_log_files(const std::string& dir) {
    std::vector<LogFileName> files;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return files;
    int highest = 0;
    while (const dirent* entry = ::readdir(d)) highest = std::max(highest, log_file_index(entry->d_name));
    ::closedir(d);
    for (int index = highest + 2; index >= 1; --index)
        files.push_back({"current." + std::to_string(index), index});
    files.push_back({std::string(kCurrent), 0});
    return files;
}

std::optional<struct stat> stat_file(const std::string& dir, const std::string& name) {
    struct stat st {};
    if (::stat(path_of(dir, name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    return st;
}

UniqueFd open_file(const std::string& dir, const std::string& name) {
    return UniqueFd(::open(path_of(dir, name).c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
}

std::vector<OpenLogFile> open_log_files(const std::string& dir) {
    std::vector<OpenLogFile> files;
    for (int attempt = 0; attempt < 3; ++attempt) {
        files.clear();
        const uint64_t before = current_inode(dir);
        const std::vector<LogFileName> names = list_log_files(dir);
        std::unordered_set<uint64_t> seen;
        for (auto name = names.rbegin(); name != names.rend(); ++name) {
            UniqueFd fd = open_file(dir, name->name);
            struct stat st {};
            if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
            if (!seen.insert(st.st_ino).second) continue;
            files.push_back({std::move(fd), st.st_ino, static_cast<uint64_t>(st.st_size), name->index == 0});
        }
        std::reverse(files.begin(), files.end());
        const uint64_t opened = !files.empty() && files.back().current ? files.back().inode : 0;
        if (opened == before && current_inode(dir) == before) break;
    }
    return files;
}

bool read_exactly(int fd, char* out, size_t size, uint64_t offset) {
    while (size > 0) {
        const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        out += n;
        size -= static_cast<size_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return true;
}

ssize_t LineBuffer::read_from(int fd, uint64_t offset) {
    drop_consumed();
    const size_t held = m_data.size();
    m_data.resize(held + kChunkBytes);
    ssize_t n;
    do {
        n = ::pread(fd, m_data.data() + held, kChunkBytes, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    m_data.resize(held + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n <= 0) return n;

    if (m_skipping) {
        // The rest of an overlong line: drop it up to its newline.
        const size_t newline = m_data.find('\n');
        if (newline == std::string::npos) {
            m_data.clear();
            return n;
        }
        m_data.erase(0, newline + 1);
        m_skipping = false;
    }
    if (m_data.size() - m_start > kMaxLineBytes &&
        m_data.find('\n', m_start + m_scanned) == std::string::npos) {
        m_data.clear();
        m_start = m_scanned = 0;
        m_skipping = true;
    }
    return n;
}

std::optional<std::string_view> LineBuffer::next() {
    if (m_skipping) return std::nullopt;
    const size_t newline = m_data.find('\n', m_start + m_scanned);
    if (newline == std::string::npos) {
        m_scanned = m_data.size() - m_start;
        return std::nullopt;
    }
    const std::string_view line(m_data.data() + m_start, newline - m_start);
    m_start = newline + 1;
    m_scanned = 0;
    return line;
}

void LineBuffer::clear() {
    // A buffer grown by a long line gives its memory back.
    if (m_data.capacity() > 4 * kChunkBytes) {
        std::string().swap(m_data);
    } else {
        m_data.clear();
    }
    m_start = m_scanned = 0;
    m_skipping = false;
}

void LineBuffer::drop_consumed() {
    if (m_start == 0) return;
    m_data.erase(0, m_start);
    m_start = 0;
}

}  // namespace gitvisor::daemon::logs::detail
