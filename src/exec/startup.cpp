#include "exec/startup.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/unique_fd.h"

namespace gitvisor::exec {

void reset_process_state() {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &action, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);

    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) < 0) {
            const int null_fd = ::open("/dev/null", O_RDWR);
            if (null_fd >= 0 && null_fd != fd) {
                ::dup2(null_fd, fd);
                ::close(null_fd);
            }
        }
    }
}

void close_inherited_fds(int keep) {
    // Nothing else is passed on purpose: a descriptor the daemon leaked, such as a listening socket or
    // its database, must not live on in every unit's supervisor.
    const auto close_range = [](unsigned first, unsigned last) {
        if (first > last) return;
        if (::syscall(SYS_close_range, first, last, 0U) != 0) {
            for (unsigned fd = first; fd <= last && fd < 65536; ++fd) ::close(static_cast<int>(fd));
        }
    };
    if (keep < 3) {
        close_range(3, ~0U);
    } else {
        close_range(3, static_cast<unsigned>(keep) - 1);
        close_range(static_cast<unsigned>(keep) + 1, ~0U);
    }
}

bool has_own_mount_namespace() {
    // Compared with the parent's (the daemon's): /proc is still the one gitvisor-exec was started with,
    // where the parent has a pid even when gitvisor-exec is PID 1 of a new PID namespace.
    UniqueFd fd(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
    if (!fd) return false;
    char buffer[4096];
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer - 1);
    if (n <= 0) return false;
    buffer[n] = '\0';
    const char* ppid_line = std::strstr(buffer, "\nPPid:");
    if (ppid_line == nullptr) return false;
    const long ppid = std::strtol(ppid_line + 6, nullptr, 10);
    if (ppid <= 0) return false;
    const auto link = [](const std::string& path) {
        char target[128];
        const ssize_t length = ::readlink(path.c_str(), target, sizeof target - 1);
        return length > 0 ? std::string(target, static_cast<size_t>(length)) : std::string();
    };
    const std::string own = link("/proc/self/ns/mnt");
    const std::string parent = link("/proc/" + std::to_string(ppid) + "/ns/mnt");
    return !own.empty() && !parent.empty() && own != parent;
}

Result<bool> join_cgroups(const std::vector<std::string>& procs_files, int* error_number) {
    for (const std::string& path : procs_files) {
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd || ::write(fd.get(), "0", 1) != 1) {
            *error_number = errno;
            return Result<bool>::fail("cannot join cgroup '" + path + "': " + std::strerror(errno));
        }
    }
    return Result<bool>::ok(true);
}

Result<bool> become_namespace_init() {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return Result<bool>::fail(std::string("cannot make mounts private: ") + std::strerror(errno));
    }
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        return Result<bool>::fail(std::string("cannot mount /proc: ") + std::strerror(errno));
    }
    return Result<bool>::ok(true);
}

Result<bool> become_subreaper() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        return Result<bool>::fail(std::string("cannot become a child subreaper: ") + std::strerror(errno));
    }
    return Result<bool>::ok(true);
}

Result<bool> mount_private_tmp(bool own_mount_namespace, int* error_number) {
    const auto fail = [&](const char* what) {
        *error_number = errno;
        return Result<bool>::fail(std::string(what) + ": " + std::strerror(errno));
    };
    if (!own_mount_namespace) {
        if (::unshare(CLONE_NEWNS) != 0) return fail("cannot make a mount namespace");
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            return fail("cannot make mounts private");
        }
    }
    for (const char* dir : {"/tmp", "/var/tmp"}) {
        if (::mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) {
            return fail(dir == std::string("/tmp") ? "cannot mount /tmp" : "cannot mount /var/tmp");
        }
    }
    return Result<bool>::ok(true);
}

}  // namespace gitvisor::exec
