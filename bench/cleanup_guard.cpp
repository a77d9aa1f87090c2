#include "cleanup_guard.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>

namespace gitvisor::bench {

void CleanupGuard::start(std::function<void()> sweep) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot make a pipe");
    m_pid = ::fork();
    if (m_pid < 0) throw std::runtime_error(std::string("cannot fork: ") + std::strerror(errno));
    if (m_pid == 0) {
        ::setpgid(0, 0);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::signal(sig, SIG_IGN);
        ::close(fds[1]);
        char word = 0;
        ssize_t n;
        while ((n = ::read(fds[0], &word, 1)) < 0 && errno == EINTR) {
        }
        if (n != 1 || word != 'x') sweep();
        ::_exit(0);
    }
    ::close(fds[0]);
    m_pipe = fds[1];
}

void CleanupGuard::done() {
    if (m_pid <= 0) return;
    const char word = 'x';
    (void)!::write(m_pipe, &word, 1);
    ::close(m_pipe);
    ::waitpid(m_pid, nullptr, 0);
    m_pid = 0;
    m_pipe = -1;
}

}  // namespace gitvisor::bench
