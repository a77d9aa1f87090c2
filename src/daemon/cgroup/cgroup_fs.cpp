// File helpers for cgroupfs and the parsing of /proc/self/cgroup.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <sstream>

#include "daemon/cgroup/cgroup_internal.h"

namespace gitvisor::daemon::cgroup_detail {

std::string errno_text(int err) { return std::strerror(err); }

std::string join_path(const std::string& dir, const std::string& name) {
    std::string base = dir;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    std::string rest = name;
    while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
    if (rest.empty()) return base;
    if (base.empty() || base.back() == '/') return base + rest;
    return base + "/" + rest;
}

bool path_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<std::string> read_text(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return text;
}

int write_text_errno(const std::string& path, const std::string& value) {
    // O_TRUNC: cgroupfs ignores it, and a plain file in a fake tree must not keep the tail of a longer value.
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return errno;
    ssize_t n;
    do {
        n = ::write(fd, value.data(), value.size());
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? errno : (static_cast<size_t>(n) == value.size() ? 0 : EIO);
    if (::close(fd) != 0 && err == 0) err = errno;
    return err;
}

Result<bool> write_text(const std::string& path, const std::string& value) {
    int err = write_text_errno(path, value);
    if (err != 0) {
        return Result<bool>::fail("cannot write '" + path + "': " + errno_text(err) + " (value '" + value +
                                  "')");
    }
    return Result<bool>::ok(true);
}

Result<bool> make_directory(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) == 0) return Result<bool>::ok(true);
    int err = errno;
    if (err == EEXIST && is_directory(path)) return Result<bool>::ok(false);
    return Result<bool>::fail("cannot create cgroup '" + path + "': " + errno_text(err));
}

std::optional<uint64_t> read_u64(const std::string& path) {
    // Read straight into a small buffer: /metrics reads three of these per unit.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char buf[64];
    ssize_t n;
    do {
        n = ::read(fd, buf, sizeof buf - 1);
    } while (n < 0 && errno == EINTR);
    ::close(fd);
    if (n <= 0) return std::nullopt;
    buf[n] = '\0';
    const char* p = buf;
    while (*p == ' ' || *p == '\t') ++p;
    if (*p < '0' || *p > '9') return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const unsigned long long value = std::strtoull(p, &end, 10);
    if (errno != 0) return std::nullopt;
    return static_cast<uint64_t>(value);
}

std::optional<uint64_t> read_keyed_u64(const std::string& path, const std::string& key) {
    auto text = read_text(path);
    if (!text) return std::nullopt;
    return keyed_u64(*text, key);
}

std::optional<uint64_t> keyed_u64(const std::string& text, const std::string& key) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string name;
        uint64_t value;
        if (fields >> name >> value && name == key) return value;
    }
    return std::nullopt;
}

std::vector<std::string> subdirectories(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return out;
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        std::string path = join_path(dir, name);
        // d_type is filled in on cgroupfs and on the file systems tests use; stat covers the rest.
        if (e->d_type == DT_DIR || (e->d_type == DT_UNKNOWN && is_directory(path))) out.push_back(path);
    }
    ::closedir(d);
    return out;
}

void collect_pids(const std::string& dir, std::vector<pid_t>& out) {
    if (auto text = read_text(join_path(dir, "cgroup.procs"))) {
        std::istringstream in(*text);
        long pid;
        while (in >> pid) {
            if (pid > 0) out.push_back(static_cast<pid_t>(pid));
        }
    }
    for (const auto& child : subdirectories(dir)) collect_pids(child, out);
}

std::vector<ProcCgroupEntry> parse_proc_cgroup(const std::string& text) {
    std::vector<ProcCgroupEntry> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        // The path may itself hold ':', so split at the first two only.
        size_t first = line.find(':');
        if (first == std::string::npos) continue;
        size_t second = line.find(':', first + 1);
        if (second == std::string::npos) continue;
        ProcCgroupEntry entry;
        entry.id = line.substr(0, first);
        std::string list = line.substr(first + 1, second - first - 1);
        entry.path = line.substr(second + 1);
        if (entry.path.empty() || entry.path.front() != '/') continue;
        size_t start = 0;
        while (start <= list.size() && !list.empty()) {
            size_t comma = list.find(',', start);
            if (comma == std::string::npos) comma = list.size();
            if (comma > start) entry.controllers.push_back(list.substr(start, comma - start));
            start = comma + 1;
        }
        out.push_back(std::move(entry));
    }
    return out;
}

}  // namespace gitvisor::daemon::cgroup_detail
