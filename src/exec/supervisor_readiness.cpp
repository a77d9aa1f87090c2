#include "exec/supervisor.h"

// Type=notify and Type=forking: how a service tells that it has started.
//
// sd_notify (systemd's $NOTIFY_SOCKET protocol): a datagram of "KEY=VALUE" lines. READY=1 ends a Type=notify
// start; STATUS= is shown by `gitvisor status`; MAINPID= moves the main process; STOPPING=1 and RELOADING=1
// are accepted and shown; WATCHDOG=1 keeps the watchdog (WatchdogSec=) from expiring, WATCHDOG=trigger makes
// it expire now, WATCHDOG_USEC= changes its timeout for this run. Who may send is NotifyAccess= (main: the
// main process, exec: it or a control process, all: any process of the unit), checked with the sender's
// credentials (SO_PASSCRED).

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "exec/kill.h"

namespace gitvisor::exec {

Result<bool> Supervisor::open_notify_socket() {
    if (m_spec.notify_socket.empty() || m_spec.notify_access == NotifyAccess::None) return Result<bool>::ok(true);
    const auto fail = [&](const std::string& what) {
        return Result<bool>::fail(what + " '" + m_spec.notify_socket + "': " + std::strerror(errno));
    };
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (m_spec.notify_socket.size() >= sizeof address.sun_path) {
        errno = ENAMETOOLONG;
        return fail("cannot bind the notify socket");
    }
    std::memcpy(address.sun_path, m_spec.notify_socket.c_str(), m_spec.notify_socket.size() + 1);
    m_notify_fd.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!m_notify_fd) return fail("cannot create the notify socket");
    ::unlink(m_spec.notify_socket.c_str());  // a stale one of an earlier run
    if (::bind(m_notify_fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
        return fail("cannot bind the notify socket");
    // The service may run as another user (User=): it must be able to send.
    ::chmod(m_spec.notify_socket.c_str(), 0666);
    const int on = 1;
    if (::setsockopt(m_notify_fd.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
        return fail("cannot ask for credentials on");
    watch(m_notify_fd.get(), EPOLLIN, Tag::Notify, 0);
    return Result<bool>::ok(true);
}

void Supervisor::on_notify() {
    while (true) {
        char buffer[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        iovec part{buffer, sizeof buffer - 1};
        msghdr message{};
        message.msg_iov = &part;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(m_notify_fd.get(), &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return;  // EAGAIN: all read
        pid_t sender = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                ucred credentials{};
                std::memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
                sender = credentials.pid;
            } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                // Descriptors sent along (FDSTORE=) are not kept: close them.
                const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < count; ++i) {
                    int fd = -1;
                    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                    if (fd >= 0) ::close(fd);
                }
            }
        }
        handle_notify(sender, std::string_view(buffer, static_cast<size_t>(n)));
    }
}

void Supervisor::handle_notify(pid_t sender, std::string_view message) {
    const bool allowed = m_spec.notify_access == NotifyAccess::All
                             ? sender > 0
                             : sender > 0 && (sender == m_main.pid ||
                                              (m_spec.notify_access == NotifyAccess::Exec && sender == m_control.pid));
    if (!allowed) return;
    bool ready = false;
    while (!message.empty()) {
        const size_t end = message.find('\n');
        const std::string_view line = message.substr(0, end);
        message = end == std::string_view::npos ? std::string_view() : message.substr(end + 1);
        if (line == "READY=1") {
            ready = true;
        } else if (line.starts_with("STATUS=")) {
            m_status.status_text = std::string(line.substr(7));
            m_status_dirty = true;
        } else if (line.starts_with("MAINPID=")) {
            const std::string digits(line.substr(8));
            char* rest = nullptr;
            const long pid = std::strtol(digits.c_str(), &rest, 10);
            // Only a live process of this namespace (or of the subreaper's tree) can become the main one.
            if (rest != digits.c_str() && *rest == '\0' && pid > 1 && ::kill(static_cast<pid_t>(pid), 0) == 0) {
                m_main.pid = static_cast<pid_t>(pid);
                m_status.main_pid = m_main.pid;
                m_status_dirty = true;
            }
        } else if (line == "WATCHDOG=1") {
            if (watchdog_usec() > 0 && (m_phase == Phase::Start || m_phase == Phase::StartPost ||
                                        m_phase == Phase::Running || m_phase == Phase::Reload))
                arm_watchdog();
        } else if (line == "WATCHDOG=trigger") {
            if (m_phase == Phase::Running || m_phase == Phase::Reload || m_phase == Phase::Start ||
                m_phase == Phase::StartPost)
                watchdog_expired();
            return;  // the unit is being stopped: nothing after this counts
        } else if (line.starts_with("WATCHDOG_USEC=")) {
            const std::string digits(line.substr(14));
            char* rest = nullptr;
            const long long usec = std::strtoll(digits.c_str(), &rest, 10);
            if (rest != digits.c_str() && *rest == '\0' && usec > 0) {
                m_watchdog_override = usec;
                if (m_watchdog_armed) arm_watchdog();
            }
        } else if (line == "STOPPING=1" || line == "RELOADING=1") {
            m_status.status_text = line == "STOPPING=1" ? "stopping" : "reloading";
            m_status_dirty = true;
        }
    }
    if (ready && m_phase == Phase::Start && m_spec.type == ServiceType::Notify) enter_start_post();
}

}  // namespace gitvisor::exec

namespace gitvisor::exec {

void Supervisor::adopt_forked_main() {
    pid_t pid = 0;
    if (!m_spec.pid_file.empty()) {
        // Read in gitvisor-exec's own namespace: the pid the service wrote is one of it.
        char buffer[32] = {};
        const int fd = ::open(m_spec.pid_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
            ::close(fd);
            if (n > 0) pid = static_cast<pid_t>(std::strtol(buffer, nullptr, 10));
        }
    } else {
        // GuessMainPID=: the one process of the unit left, if there is exactly one.
        const std::vector<pid_t> left = list_descendants(::getpid());
        if (left.size() == 1) pid = left.front();
    }
    if (pid > 1 && pid != ::getpid() && ::kill(pid, 0) == 0) {
        m_main.pid = pid;
        m_status.main_pid = pid;
        m_status_dirty = true;
    }
}

}  // namespace gitvisor::exec
