#pragma once
// Where peer_bench runs another supervisor: a folder of the temporary directory for its configuration and
// logs, and a cgroup of its own that the supervisor is started in, so that every process it starts is
// found (new main processes are seen in cgroup.procs, as daemon_bench sees gitvisor's) and none can
// outlive the run. On every exit path the supervisor is asked to stop as its documentation says, what is
// left in the cgroup is killed, and the cgroup and the folder are removed; should peer_bench be killed
// outright (SIGKILL), a guard process forked at the start sees its pipe close and does the same.

#include <sys/types.h>

#include <string>
#include <vector>

#include "cleanup_guard.h"

namespace gitvisor::bench {

class PeerSandbox {
public:
    // Makes the folder (<tmp>/gitvisor-bench-<peer>-XXXXXX) and the cgroup, in the cgroup2 hierarchy when
    // one is mounted, else in the first cgroup v1 hierarchy. Makes the calling process a child subreaper,
    // so that processes a stopping supervisor leaves behind are reaped here.
    explicit PeerSandbox(const std::string& peer);
    ~PeerSandbox();  // clean_up()
    PeerSandbox(const PeerSandbox&) = delete;
    PeerSandbox& operator=(const PeerSandbox&) = delete;

    const std::string& dir() const { return m_dir; }
    std::string procs_file() const { return m_cgroup + "/cgroup.procs"; }

    // Starts `argv` in the cgroup, in a process group of its own (Ctrl-C is for peer_bench), stdout and
    // stderr appended to <dir>/supervisor.log. `stop_signal` is how the supervisor is asked to stop
    // everything it runs. Throws when a supervisor runs already or when it cannot be started.
    void start(const std::vector<std::string>& argv, int stop_signal);
    pid_t supervisor() const { return m_supervisor; }
    // True while the supervisor runs (it is reaped when it has exited).
    bool supervisor_running();
    // Sends the stop signal, waits for the supervisor and for the cgroup to empty, at most `seconds`,
    // then kills whatever is left. Returns false when it had to kill. Not cut short by Ctrl-C.
    bool stop(double seconds);
    // stop(), then removes the cgroup and the folder. What it could not clean; safe to call twice.
    std::vector<std::string> clean_up();
    // The last lines of <dir>/supervisor.log, for error messages.
    std::string log_tail(size_t lines = 20) const;

private:
    void start_guard();

    std::string m_dir;
    std::string m_cgroup;
    pid_t m_supervisor = 0;
    int m_stop_signal = 0;
    CleanupGuard m_guard;
    bool m_cleaned = false;
};

}  // namespace gitvisor::bench
