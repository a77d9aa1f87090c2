#pragma once
// A forked watcher that cleans up after a benchmark that dies without doing so itself (kill -9, a crash):
// it waits on a pipe; when the pipe closes without the word that the benchmark cleaned up, it runs `sweep`.
// Out of the terminal's process group and deaf to SIGINT/SIGTERM/SIGHUP/SIGQUIT: Ctrl-C is for the
// benchmark, which then cleans up itself.

#include <sys/types.h>

#include <functional>

namespace gitvisor::bench {

class CleanupGuard {
public:
    CleanupGuard() = default;
    ~CleanupGuard() { done(); }
    CleanupGuard(const CleanupGuard&) = delete;
    CleanupGuard& operator=(const CleanupGuard&) = delete;

    // Forks the watcher; throws std::runtime_error when it cannot.
    void start(std::function<void()> sweep);
    // The benchmark cleaned up: the watcher ends without sweeping. Idempotent.
    void done();
    pid_t pid() const { return m_pid; }

private:
    pid_t m_pid = 0;
    int m_pipe = -1;  // the write end
};

}  // namespace gitvisor::bench
