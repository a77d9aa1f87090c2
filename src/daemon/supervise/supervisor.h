#pragma once
// Starts, watches, stops and re-adopts the gitvisor-exec of every unit (DESIGN §1, docs/exec-protocol.md).
//
// gitvisord clones each gitvisor-exec into a new PID and mount namespace (when root) and then talks to it
// over its control socket. One event thread watches every gitvisor-exec through a pidfd (so adopted ones,
// which are not our children, are watched too) and reads the state events they push. A change is handed
// to the listener, which records it; gitvisor-exec itself keeps running when gitvisord goes away.

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "daemon/cgroup/cgroup.h"
#include "daemon/core/paths.h"
#include "daemon/supervise/spec_builder.h"
#include "unitfile/unit.h"

namespace gitvisor::daemon {

struct ExecStatus {
    std::string invocation;
    std::string state = "inactive";
    std::string sub_state = "dead";
    std::string result = "success";
    int64_t main_pid = 0;  // inside the namespace
    int64_t since_usec = 0;
    int64_t restarts = 0;
    std::optional<int64_t> exit_code;
    std::optional<int64_t> exit_signal;
    std::string failed_step;
    std::string error;
    std::string status_text;  // the service's last STATUS= (sd_notify)
};

// Parses a status object (file or event); unknown fields are ignored, missing ones keep their defaults.
std::optional<ExecStatus> parse_exec_status(const std::string& json);

class Supervisor {
public:
    // Called from the event thread on every change; `exited` when the gitvisor-exec is gone for good.
    using Listener = std::function<void(const std::string& unit, const ExecStatus& status, bool exited)>;

    Supervisor(Paths paths, CgroupManager cgroups, std::string exec_binary, Listener listener);
    ~Supervisor();  // ends the event thread; leaves every unit running
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    bool isolated() const { return m_isolated; }  // PID namespaces in use (root)
    const CgroupManager& cgroups() const { return m_cgroups; }

    // Writes the spec, makes the cgroup, starts gitvisor-exec and connects to it. Returns its host pid.
    Result<pid_t> start(const unitfile::Unit& unit, const CgroupLimits& limits, StartContext context);
    // Asks the unit's gitvisor-exec to stop and waits until it is gone; SIGKILLs its namespace after
    // `timeout_usec` plus a grace period. A unit that does not run is fine.
    // `restarting`: the unit is started again right after (its RestartKillSignal=, RuntimeDirectoryPreserve=).
    Result<bool> stop(const std::string& unit, int64_t timeout_usec, bool restarting = false);
    Result<bool> kill(const std::string& unit, int signal, bool all);
    // Sends one request to the unit's gitvisor-exec on a connection of its own and waits up to
    // `timeout_ms` for the answer ({"ok":true} or {"ok":false,"error":...}): ok, or the error.
    Result<bool> ask(const std::string& unit, const std::string& request, int timeout_ms);
    // As ask(), with the whole answer line when it is {"ok":true,...}.
    Result<std::string> ask_reply(const std::string& unit, const std::string& request, int timeout_ms);
    // Waits until the unit has finished starting or `timeout_ms` passed; the status then. A start has
    // finished once the unit is neither activating nor deactivating, or waits to be restarted: a start that
    // fails passes through `deactivating` (ExecStopPost=, killing what is left) on its way to `failed`.
    std::optional<ExecStatus> wait_started(const std::string& unit, int timeout_ms);
    // Takes over a gitvisor-exec left by an earlier gitvisord. False when `exec_pid` is not that unit's.
    bool adopt(const std::string& unit, pid_t exec_pid);

    // Ends every wait in progress (start, stop) and keeps new ones short while on: for a daemon exiting.
    void interrupt(bool on);

    bool running(const std::string& unit);
    std::optional<ExecStatus> status(const std::string& unit);
    pid_t exec_pid(const std::string& unit);
    bool is_exec_pid(pid_t pid);  // the gitvisor-exec of some unit
    // Held while reaping orphans (container mode): no gitvisor-exec is then between its fork and its
    // registration, when is_exec_pid() would not know it yet and reaping it would lose its end.
    std::unique_lock<std::shared_mutex> hold_spawns() { return std::unique_lock(m_spawning); }
    pid_t main_host_pid(const std::string& unit);  // 0 when none
    std::vector<std::string> running_units();

private:
    struct Process {
        pid_t exec_pid = 0;
        int pidfd = -1;
        int socket = -1;
        bool child = false;
        std::string buffer;
        ExecStatus status;
        UnitCgroup cgroup;
    };

    void loop();
    void watch(const std::string& unit, Process process);  // registers fds with the event loop
    void register_fd(const std::string& unit, int fd);     // with m_mutex held
    void on_exit(const std::string& unit);
    void on_readable(const std::string& unit);
    int connect_control(const std::string& unit, int attempts);
    bool send(const std::string& unit, const std::string& line);

    Paths m_paths;
    CgroupManager m_cgroups;
    std::string m_exec_binary;
    Listener m_listener;
    bool m_isolated = false;

    // Waits for a change of `unit` (its status or its end) until `deadline` or `done()`; with m_mutex held
    // through `lock`. Each unit has its own condition: a change wakes only the threads waiting for that
    // unit, not every start of a 1,000-unit deploy.
    template <class Done>
    bool wait_for_unit(std::unique_lock<std::mutex>& lock, const std::string& unit,
                       std::chrono::steady_clock::time_point deadline, Done done);
    void notify(const std::string& unit);  // takes m_mutex
    void notify_all_waiters();             // takes m_mutex

    std::shared_mutex m_spawning;  // shared by each start() from fork to registration
    std::mutex m_mutex;
    struct Waiters {
        std::condition_variable changed;
        int count = 0;
    };
    std::map<std::string, Waiters> m_waiters;
    std::map<std::string, Process> m_units;
    // pidfd or socket -> its unit, and the registration it belongs to. epoll events carry the registration
    // beside the fd: an event read in the same batch as a unit's exit may name an fd number that was closed
    // and already reused by the unit's next gitvisor-exec, and must not be taken for that one's.
    struct FdOwner {
        std::string unit;
        uint32_t registration = 0;
    };
    std::map<int, FdOwner> m_fd_owner;
    uint32_t m_registrations = 0;
    int m_epoll = -1;
    int m_wake = -1;  // eventfd: ends the loop
    bool m_stopping = false;
    bool m_interrupted = false;
    std::thread m_thread;
};

// Host pid of the process whose innermost pid is `ns_pid`, among the children of `parent` (host pid).
pid_t host_pid_of(pid_t parent, int64_t ns_pid);
// The NSpid entries of a process (one per namespace level, host first), empty when it is gone.
std::vector<int64_t> ns_pids(pid_t pid);

}  // namespace gitvisor::daemon
