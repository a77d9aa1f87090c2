#pragma once
// A private sshd on 127.0.0.1 for tests of fetching over ssh://: its own host key, config, authorized_keys
// and log in a temporary folder. The host's /etc/ssh/sshd_config, host keys, ~/.ssh and running sshd are
// never read or touched.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/cli_support.h"
#include "git_daemon_support.h"

namespace gitvisor::testing {

inline constexpr const char* kSshd = "/usr/sbin/sshd";

inline bool have_sshd() {
    return ::access(kSshd, X_OK) == 0 &&
           run("command -v ssh-keygen", std::filesystem::current_path()).exit_code == 0 &&
           run("command -v unshare", std::filesystem::current_path()).exit_code == 0;
}

// A new ed25519 key pair without a passphrase: `path` and `path`.pub.
inline void make_ssh_key(const std::filesystem::path& path) {
    const CommandResult r =
        run("ssh-keygen -q -t ed25519 -N '' -C gitvisor-test -f " + shell_quote(path.string()),
            path.parent_path());
    INFO("ssh-keygen: " << r.err);
    REQUIRE(r.exit_code == 0);
}

// "ssh-ed25519 AAAA...": the type and key of `private_key`.pub, as known_hosts and authorized_keys lines
// take them.
inline std::string public_key_of(const std::filesystem::path& private_key) {
    std::istringstream fields(slurp(private_key.string() + ".pub"));
    std::string type, key;
    fields >> type >> key;
    REQUIRE_FALSE(key.empty());
    return type + " " + key;
}

// sshd on a free port of 127.0.0.1 that lets root in with the keys given to authorize(), and with nothing
// else. Debian's sshd needs its privilege-separation folder /run/sshd, which only the ssh service makes: so
// sshd runs in mount and PID namespaces of its own (`unshare`), with a private tmpfs on /run. The PID
// namespace also ends the connections sshd forks (each in a session of its own) when sshd ends.
class SshServer {
public:
    // `dir` is made and holds the host key, the config, authorized_keys and the log.
    explicit SshServer(const std::filesystem::path& dir) : m_dir(dir), m_port(free_port()) {
        std::filesystem::create_directories(m_dir);
        make_ssh_key(m_dir / "host_key");
        std::ofstream(m_dir / "authorized_keys");
        const std::string config = (m_dir / "sshd_config").string();
        std::ofstream(config) << "Port " << m_port << "\n"
                              << "ListenAddress 127.0.0.1\n"
                              << "HostKey " << (m_dir / "host_key").string() << "\n"
                              << "AuthorizedKeysFile " << (m_dir / "authorized_keys").string() << "\n"
                              << "PidFile " << (m_dir / "sshd.pid").string() << "\n"
                              << "StrictModes no\n"  // the temporary folder is not root's home
                              << "UsePAM yes\n"  // sshd alone refuses a locked root ("!" in /etc/shadow)
                              << "PermitRootLogin prohibit-password\n"
                              << "PasswordAuthentication no\n"
                              << "KbdInteractiveAuthentication no\n";
        const std::string log = log_path().string();
        m_pid = ::fork();
        REQUIRE(m_pid >= 0);
        if (m_pid == 0) {
            ::setpgid(0, 0);
            const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) ::dup2(fd, STDERR_FILENO);
            ::execlp("unshare", "unshare", "--mount", "--pid", "--fork", "--kill-child", "--", "/bin/sh",
                     "-c", kLauncher, kSshd, config.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::setpgid(m_pid, m_pid);  // also from here, so that the kill below cannot miss an early child
    }
    // SIGTERM to the group ends unshare and sshd, and with sshd (PID 1 of its namespace) the kernel ends
    // every connection left in the namespace. PID 1 ignores a signal it has no handler for: an sshd not yet
    // past its start-up gets SIGKILL after 5 s.
    ~SshServer() {
        ::kill(-m_pid, SIGTERM);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        int status = 0;
        while (::waitpid(m_pid, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(-m_pid, SIGKILL);
                while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
                }
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    SshServer(const SshServer&) = delete;
    SshServer& operator=(const SshServer&) = delete;

    // Lets root in with `private_key` (sshd reads authorized_keys at each login).
    void authorize(const std::filesystem::path& private_key) const {
        std::ofstream(m_dir / "authorized_keys", std::ios::app) << public_key_of(private_key) << "\n";
    }

    // Waits up to 10 s for the port to accept connections; false when sshd exited or never listened.
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

    // The known_hosts line that vouches for this server: "[127.0.0.1]:PORT ssh-ed25519 AAAA...".
    std::string known_hosts_line() const {
        return "[127.0.0.1]:" + std::to_string(m_port) + " " + public_key_of(m_dir / "host_key");
    }
    std::string url(const std::filesystem::path& repository) const {
        return "ssh://root@127.0.0.1:" + std::to_string(m_port) + repository.string();
    }
    std::filesystem::path log_path() const { return m_dir / "sshd.log"; }
    std::string log() const { return slurp(log_path()); }

private:
    // Run by sh as PID 1 of the new namespaces, with sshd as $0 and its config as $1.
    static constexpr const char* kLauncher =
        "mount -t tmpfs -o mode=0755 gitvisor-test /run && mkdir /run/sshd && exec \"$0\" -D -e -f \"$1\"";

    std::filesystem::path m_dir;
    int m_port;
    pid_t m_pid = -1;
};

}  // namespace gitvisor::testing
