#pragma once
// `git daemon` on 127.0.0.1 for tests of remote fetching (the repo module's and the daemon's).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "cli/cli_support.h"

namespace gitvisor::testing {

// A TCP port on 127.0.0.1 that nothing listens on right now.
inline int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    ::close(fd);
    REQUIRE(ok);
    return ntohs(address.sin_port);
}

inline bool accepts_connections(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
}

inline bool have_git_daemon() {
    const CommandResult r = run("test -x \"$(git --exec-path)/git-daemon\"", std::filesystem::current_path());
    return r.exit_code == 0;
}

// `git daemon` serving `base` on 127.0.0.1:port, in its own process group so that the connections it forks
// are stopped with it; killed and reaped on every exit path. Its stderr goes to `log` (the readiness probe
// makes it complain of a hung-up client).
class GitDaemon {
public:
    GitDaemon(const std::filesystem::path& base, int port, const std::filesystem::path& log) : m_port(port) {
        const std::string base_path = "--base-path=" + base.string();
        const std::string port_arg = "--port=" + std::to_string(port);
        m_pid = ::fork();
        REQUIRE(m_pid >= 0);
        if (m_pid == 0) {
            ::setpgid(0, 0);
            const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) ::dup2(fd, STDERR_FILENO);
            ::execlp("git", "git", "daemon", "--reuseaddr", base_path.c_str(), "--export-all",
                     port_arg.c_str(), "--listen=127.0.0.1", base.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::setpgid(m_pid, m_pid);  // also from here, so that the kill below cannot miss an early child
    }
    ~GitDaemon() {
        ::kill(-m_pid, SIGTERM);
        int status = 0;
        while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    GitDaemon(const GitDaemon&) = delete;
    GitDaemon& operator=(const GitDaemon&) = delete;

    // Waits up to 10 s for the port to accept connections; false when git daemon exited or never listened.
    bool ready() const {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            if (accepts_connections(m_port)) return true;
            int status = 0;
            if (::waitpid(m_pid, &status, WNOHANG) == m_pid) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

private:
    pid_t m_pid = -1;
    int m_port;
};

}  // namespace gitvisor::testing
