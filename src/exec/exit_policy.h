#pragma once
// What a process exit means for the service, as pure functions (SYSTEMD-SYNTAX.md §6, systemd's
// is_clean_exit() and service_shall_restart()), and the start rate limit (systemd's ratelimit_below()).

#include <cstdint>

#include "exec/spec.h"
#include "exec/status.h"

namespace gitvisor::exec {

// How one process ended, decoded from a wait status.
struct ProcessExit {
    int code = 0;    // exit code when it exited
    int signal = 0;  // the signal when it was killed (then code is 0)
    bool core_dumped = false;

    static ProcessExit from_wait_status(int status);
    // The shell's convention, as gitvisor-exec's own exit status: the code, or 128 + the signal.
    int shell_status() const { return signal != 0 ? 128 + signal : code; }
};

// Which exits count as clean: a command's (CodeOnly: code 0 only), or a daemon's, which also ends cleanly by
// SIGHUP, SIGINT, SIGTERM or SIGPIPE (the main process of a service that is not oneshot).
enum class CleanMode { CodeOnly, Daemon };
CleanMode clean_mode_of_main(ServiceType type);

// A clean exit: code 0, the signals CleanMode allows, and whatever `success` lists (SuccessExitStatus=,
// for the main process only; nullptr otherwise).
bool is_clean_exit(const ProcessExit& exit, CleanMode mode, const ExitStatusSet* success);

// The result an exit gives: Success when clean, else ExitCode, Signal or CoreDump.
ServiceResult result_of_exit(const ProcessExit& exit, bool clean);

// Whether Restart= (with RestartPreventExitStatus=/RestartForceExitStatus=, which look at the main
// process's last exit `main_exit` when there was one) asks for a restart after the service ended with
// `result`. Stops requested by the daemon and skipped conditions never get here.
bool should_restart(const Spec& spec, ServiceResult result, const ProcessExit* main_exit);

// RestartSec= grown by RestartSteps= and RestartMaxDelaySec= (systemd 254's service_restart_usec_next()):
// the delay before automatic restart number `restart` (1 for the first of a series) is
//     RestartSec= * (RestartMaxDelaySec= / RestartSec=) ^ ((restart - 1) / RestartSteps=),
// reaching RestartMaxDelaySec= at restart RestartSteps= + 1 and staying there. Without steps, without a
// maximum, or with RestartSec= 0 it is RestartSec=; a RestartSec= above the maximum is the maximum.
// kInfinity when RestartSec= is infinity (no restart comes).
int64_t restart_delay_usec(const Spec& spec, int64_t restart);

// StartLimitIntervalSec=/StartLimitBurst=: a fixed window opened by the first start; every start inside
// it counts (the first one too), and a start that makes the count exceed the burst is refused. An
// interval or burst of 0 turns the limit off; a negative interval is infinity (the window never ends).
class StartLimit {
public:
    StartLimit(int64_t interval_usec, int64_t burst) : m_interval(interval_usec), m_burst(burst) {}
    // Records a start at `now_usec` (CLOCK_MONOTONIC); false when the limit is hit.
    bool allow(int64_t now_usec);

private:
    int64_t m_interval;
    int64_t m_burst;
    int64_t m_begin = -1;
    int64_t m_count = 0;
};

}  // namespace gitvisor::exec
