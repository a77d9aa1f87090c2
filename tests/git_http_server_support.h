#pragma once
// Smart-HTTP git on 127.0.0.1 that asks for a token, for tests of fetching over http:// with a token file:
// tests/git_http_server.py (`git http-backend` behind HTTP Basic authentication) as a child process.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "cli/cli_support.h"
#include "git_daemon_support.h"

namespace gitvisor::testing {

inline constexpr const char* kPython = "/usr/bin/python3";

inline std::string git_http_server_script() {
    return std::string(GITVISOR_SOURCE_DIR) + "/tests/git_http_server.py";
}

inline bool have_git_http_backend() {
    return ::access(kPython, X_OK) == 0 &&
           run("test -x \"$(git --exec-path)/git-http-backend\"", std::filesystem::current_path())
                   .exit_code == 0;
}

// Serves the repositories under `root` to a client that sends `credentials` ("user:password") as HTTP Basic
// authentication, on a port the server picks. In its own process group with the `git http-backend` it runs;
// killed and reaped on every exit path. Its request log goes to `dir`/http.log.
class GitHttpServer {
public:
    GitHttpServer(const std::filesystem::path& root, const std::string& credentials,
                  const std::filesystem::path& dir)
        : m_port_file(dir / "http.port"), m_log(dir / "http.log") {
        const std::string script = git_http_server_script();
        const std::string log = m_log.string();
        const std::string port_file = m_port_file.string();
        m_pid = ::fork();
        REQUIRE(m_pid >= 0);
        if (m_pid == 0) {
            ::setpgid(0, 0);
            const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) ::dup2(fd, STDERR_FILENO);
            ::execl(kPython, kPython, script.c_str(), root.c_str(), credentials.c_str(), port_file.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::setpgid(m_pid, m_pid);  // also from here, so that the kill below cannot miss an early child
    }
    ~GitHttpServer() {
        ::kill(-m_pid, SIGTERM);
        int status = 0;
        while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    GitHttpServer(const GitHttpServer&) = delete;
    GitHttpServer& operator=(const GitHttpServer&) = delete;

    // Waits up to 10 s for the server to name its port and accept connections; false when it exited first.
    bool ready() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            if (m_port == 0 && std::filesystem::exists(m_port_file)) m_port = std::stoi(slurp(m_port_file));
            if (m_port != 0 && accepts_connections(m_port)) return true;
            int status = 0;
            if (::waitpid(m_pid, &status, WNOHANG) == m_pid) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    // http://127.0.0.1:PORT/<path under root>; valid once ready().
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(m_port) + "/" + path;
    }
    std::string log() const { return slurp(m_log); }

private:
    std::filesystem::path m_port_file;
    std::filesystem::path m_log;
    pid_t m_pid = -1;
    int m_port = 0;
};

}  // namespace gitvisor::testing
