#pragma once
// The supervisor of one unit: gitvisor-exec's event loop and the service's state machine.
//
// One epoll set holds a signalfd (SIGCHLD, stop and forwarded signals), a timerfd armed only while a
// deadline is due (TimeoutStartSec=, TimeoutStopSec=, RestartSec=), the control socket and its clients,
// the service's output pipes and, while a Type=exec main process starts, its report pipe. Nothing wakes
// the process while nothing happens.
//
// The state machine is systemd's service.c, reduced (one main process, one control process at a time):
//   condition -> start-pre -> start -> start-post -> running | exited
//     -> stop (ExecStop=) -> stop-sigterm -> stop-sigkill -> stop-post (ExecStopPost=)
//     -> final-sigterm -> final-sigkill -> dead | failed | auto-restart (-> condition again)
// A start that fails skips ExecStop= and goes straight to stop-sigterm, as in systemd. The file is split:
// supervisor.cpp (loop, processes, output), supervisor_states.cpp (the machine), supervisor_control.cpp
// (the control socket and the status), supervisor_files.cpp (the unit's directories and mounts).

#include <sys/epoll.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "exec/exec_directories.h"
#include "exec/exit_policy.h"
#include "exec/kill.h"
#include "exec/log_output.h"
#include "exec/paths.h"
#include "exec/setup.h"
#include "exec/spec.h"
#include "exec/status.h"

namespace gitvisor {
class JsonValue;
}

namespace gitvisor::exec {

class Supervisor {
public:
    // `namespace_init`: gitvisor-exec is PID 1 of the unit's PID namespace.
    Supervisor(Spec spec, bool namespace_init);

    // Opens the event loop, the log, the status file's directory and the control socket. An error here
    // leaves the unit unstartable (the caller reports it and exits).
    Result<bool> open();

    // A start-up step of gitvisor-exec itself failed (cgroup, PrivateTmp=): run() then writes a failed
    // status and returns without starting anything.
    void fail_at_startup(SetupStep step, int error);

    // At start-up, after open(): the unit's directories (RuntimeDirectory=...), the file-system
    // protections (ProtectSystem=...) and PrivateTmp=, in this order (supervisor_files.cpp).
    // `own_mount_namespace`: gitvisor-exec was started in a mount namespace of its own. On error returns
    // the message, with *step and *error set.
    Result<bool> set_up_file_system(bool own_mount_namespace, SetupStep* step, int* error);

    // At start-up: the seccomp filter of SystemCallFilter= and the others (seccomp.h), made once for
    // every command. On error returns the message, with *step (SECCOMP) and *error set.
    Result<bool> prepare_seccomp(SetupStep* step, int* error);

    // A control connection made before gitvisor-exec started (`--control-fd`: the daemon's end of a
    // socket pair), served like one accepted on the control socket. Call after open().
    bool add_control_connection(int fd);

    // Runs the unit until it ends for good or is stopped; returns gitvisor-exec's exit status: the main
    // process's (128+N for a signal), or 0/1 when no main process ran.
    int run();

private:
    enum class Phase {
        Condition,
        StartPre,
        Start,
        StartPost,
        Running,
        Exited,
        Reload,
        Stop,
        StopSigterm,
        StopSigkill,
        StopPost,
        FinalSigterm,
        FinalSigkill,
        AutoRestart,
        Dead,
        Failed,
    };
    enum class Tag : uint32_t {
        Signal = 1,
        Timer,
        Listen,
        Client,
        Output,
        MainReport,
        Notify,
        HealthOutput,
        HealthTimer,
        WatchdogTimer,
    };

    struct Process {
        pid_t pid = 0;
        UniqueFd report;
        const Command* command = nullptr;
        bool report_watched = false;
    };
    struct OutputPipe {
        uint32_t id = 0;
        UniqueFd fd;
        bool is_stderr = false;
        std::string invocation;
        LineSplitter lines;
    };
    struct Client {
        uint32_t id = 0;
        UniqueFd fd;
        std::string in;
        std::string out;
        bool wants_stop = false;
        bool wants_reload = false;
        bool wants_health = false;
        bool closed = false;
        bool read_closed = false;   // shut down its side; kept until answered
        uint32_t events = EPOLLIN;  // what epoll watches for it
    };

    // supervisor.cpp: the loop and the processes.
    void dispatch(uint64_t data, uint32_t events);
    void release_free_memory();
    void watch(int fd, uint32_t events, Tag tag, uint32_t id);
    void on_signals();
    void on_timer();
    void reap_children();
    bool unit_processes_left() const;
    bool spawn(Process& process, const Command& command, EnvList manager_env);
    EnvList manager_env(bool with_main_pid, bool with_result) const;
    void take_report(Process& process);
    void on_main_report();
    void abandon_control();
    void set_deadline(int64_t usec);  // from now; <= 0 or kInfinity: none
    void clear_deadline();
    void on_output(uint32_t id);
    bool read_output(OutputPipe& pipe, size_t budget);
    void drain_outputs();

    // supervisor_states.cpp: the state machine.
    void start();
    void restart();
    void begin_run();
    void enter_condition();
    void enter_start_pre();
    void enter_start();
    void enter_start_post();
    void enter_running();
    void enter_reload();
    void enter_stop(ServiceResult result);
    void enter_signal(Phase phase, ServiceResult result);
    void enter_stop_post();
    void enter_dead();
    void enter_final(Phase phase);
    void run_controls(const std::vector<Command>& commands, bool with_main_pid, bool with_result);
    void next_control();
    void main_finished(ServiceResult result);
    void control_finished(ServiceResult result, const ProcessExit& exit);
    bool kill_phase_waiting() const;
    void kill_phase_check();
    void after_kill_phase();
    void on_deadline();
    void request_stop();
    void finish_reload(bool ok, const std::string& error);
    void set_phase(Phase phase);
    void set_result(ServiceResult result);
    bool is_kill_phase() const;

    // supervisor_files.cpp: the unit's directories before each run, and after it.
    bool make_directories(SetupStep* step, int* error);  // false with the failing step and errno
    void after_run_directories(bool restarting);
    void remove_directories();

    // supervisor_readiness.cpp: Type=forking, the main process after the launcher exited (PIDFile=, else
    // the one process left).
    void adopt_forked_main();

    // supervisor_readiness.cpp: sd_notify messages.
    Result<bool> open_notify_socket();
    void on_notify();
    void handle_notify(pid_t sender, std::string_view message);

    // supervisor_watchdog.cpp: WatchdogSec=, kept by the service's WATCHDOG=1 messages.
    int64_t watchdog_usec() const;  // WATCHDOG_USEC= sent by the service, else WatchdogSec=; 0: none
    void arm_watchdog();            // due watchdog_usec() from now
    void disarm_watchdog();
    void watchdog_expired();
    void on_watchdog_timer();

    // supervisor_health.cpp: HealthCheckExec=, one run at a time, answered to every client that asked.
    struct HealthRun {
        pid_t pid = 0;
        UniqueFd output;  // the command's stdout and stderr
        UniqueFd timer;
        std::string captured;  // the end of its output
        bool answered = false;  // timed out: answered already, reaped later
    };
    void start_health_check(Client& client, const JsonValue& request);
    void on_health_output();
    void on_health_timer();
    void health_exited(const ProcessExit& exit);
    void answer_health(bool healthy, const std::string& detail);

    // supervisor_control.cpp: clients and status.
    void on_accept();
    bool add_client(int fd);
    void on_client(uint32_t id, uint32_t events);
    void handle_request(Client& client, std::string_view line);
    std::string handle_kill(const JsonValue& request);
    void send(Client& client, std::string_view line);
    void flush_client(Client& client);
    void update_interest(Client& client);
    void close_client(Client& client);
    void publish();
    void flush_status();
    void reply_to_waiters();
    void flush_clients_before_exit();
    void remove_closed();

    Spec m_spec;
    bool m_namespace_init;
    ProcessKiller m_killer;
    StartLimit m_start_limit;

    UniqueFd m_epoll;
    UniqueFd m_signal_fd;
    UniqueFd m_timer_fd;
    UniqueFd m_listen_fd;
    UniqueFd m_notify_fd;  // $NOTIFY_SOCKET, when the spec names one
    DirEntry m_status_path;
    DirEntry m_socket_path;
    LogFile m_log;

    Status m_status;
    bool m_status_dirty = false;
    Phase m_phase = Phase::Dead;
    ServiceResult m_result = ServiceResult::Success;
    Process m_main;
    Process m_control;
    const std::vector<Command>* m_controls = nullptr;  // the list the control process runs from
    size_t m_control_index = 0;
    bool m_control_main_pid = false;
    bool m_control_result = false;
    size_t m_start_index = 0;                     // oneshot: the ExecStart= command running
    std::optional<ProcessExit> m_main_exit;       // this run's
    std::optional<ProcessExit> m_last_main_exit;  // any run's, for the exit status
    bool m_stop_requested = false;
    bool m_condition_skipped = false;
    int64_t m_deadline = -1;  // CLOCK_MONOTONIC µs, -1: none
    SetupStep m_startup_failure = SetupStep::None;
    int m_startup_error = 0;
    int64_t m_up_since = -1;       // CLOCK_MONOTONIC µs when this run became active, -1: not yet
    int64_t m_restart_series = 0;  // automatic restarts since the unit last stayed up (RestartSteps=)

    ExecDirectories m_directories;
    UniqueFd m_unprotected_namespace;  // for '+' commands, when ProtectSystem= and friends apply
    UniqueFd m_host_uts_namespace;     // for '+' commands, when ProtectHostname= applies
    bool m_protected = false;
    std::optional<SeccompProgram> m_seccomp;  // none when the unit filters nothing

    HealthRun m_health;
    UniqueFd m_watchdog_timer;        // made at the first arming
    bool m_watchdog_armed = false;
    int64_t m_watchdog_override = 0;  // WATCHDOG_USEC= of this run, 0: none
    bool m_watchdog_fired = false;    // this run's stop is the watchdog's: WatchdogSignal=
    bool m_stopping_for_restart = false;  // the stop gitvisord asked for is the first half of a restart
    std::vector<OutputPipe> m_outputs;
    std::vector<Client> m_clients;
    uint32_t m_next_id = 1;
    size_t m_free_after_trim = 0;
    bool m_finished = false;
};

}  // namespace gitvisor::exec
