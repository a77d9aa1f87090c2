#include "exec/kill.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/unique_fd.h"

namespace gitvisor::exec {
namespace {

// A small fixed buffer instead of opendir()'s 32 KiB one: gitvisor-exec keeps its memory small.
struct LinuxDirent64 {
    ino64_t d_ino;
    off64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

// The parent pid from /proc/PID/stat, or -1.
pid_t parent_of(const char* pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%s/stat", pid);
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return -1;
    char buffer[512];
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer - 1);
    if (n <= 0) return -1;
    buffer[n] = '\0';
    // "pid (comm) S ppid ...": comm may hold anything, so look for the last ')'.
    const char* close = std::strrchr(buffer, ')');
    if (close == nullptr || close[1] == '\0' || close[2] == '\0') return -1;
    return static_cast<pid_t>(std::strtol(close + 4, nullptr, 10));
}

}  // namespace

std::vector<pid_t> list_descendants(pid_t root) {
    std::vector<std::pair<pid_t, pid_t>> parents;  // (pid, ppid)
    UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc) return {};
    alignas(LinuxDirent64) char buffer[4096];
    while (true) {
        const long n = ::syscall(SYS_getdents64, proc.get(), buffer, sizeof buffer);
        if (n <= 0) break;
        for (long offset = 0; offset < n;) {
            const auto* entry = reinterpret_cast<const LinuxDirent64*>(buffer + offset);
            offset += entry->d_reclen;
            if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
            const pid_t ppid = parent_of(entry->d_name);
            if (ppid > 0) parents.emplace_back(static_cast<pid_t>(std::atoi(entry->d_name)), ppid);
        }
    }
    std::vector<pid_t> out;
    std::vector<pid_t> frontier{root};
    while (!frontier.empty()) {
        const pid_t parent = frontier.back();
        frontier.pop_back();
        for (const auto& [pid, ppid] : parents) {
            if (ppid == parent && std::find(out.begin(), out.end(), pid) == out.end()) {
                out.push_back(pid);
                frontier.push_back(pid);
            }
        }
    }
    return out;
}

std::vector<pid_t> read_cgroup_procs(const std::string& path) {
    std::vector<pid_t> out;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return out;
    char buffer[4096];
    std::string text;
    ssize_t n = 0;
    while ((n = ::read(fd.get(), buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
    const char* p = text.c_str();
    while (*p != '\0') {
        char* end = nullptr;
        const long pid = std::strtol(p, &end, 10);
        if (end == p) break;
        if (pid > 0) out.push_back(static_cast<pid_t>(pid));
        p = end;
    }
    return out;
}

bool ProcessKiller::signal_all(int signal) const {
    if (m_namespace_init) return ::kill(-1, signal) == 0;
    const pid_t self = ::getpid();
    std::vector<pid_t> pids = list_descendants(self);
    for (const std::string& procs : m_cgroup_procs) {
        for (const pid_t pid : read_cgroup_procs(procs)) {
            if (std::find(pids.begin(), pids.end(), pid) == pids.end()) pids.push_back(pid);
        }
    }
    bool any = false;
    for (const pid_t pid : pids) {
        if (pid != self && ::kill(pid, signal) == 0) any = true;
    }
    return any;
}

}  // namespace gitvisor::exec
