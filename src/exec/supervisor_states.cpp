#include "exec/supervisor.h"

// The service's state machine (systemd's service.c, reduced; see supervisor.h). Each enter_*() moves to
// a phase and starts what the phase runs; *_finished() and on_deadline() decide where to go next.

#include <sys/epoll.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "exec/clock.h"

namespace gitvisor::exec {
namespace {

// A timeout of 0 or infinity means none.
int64_t timeout_or_none(int64_t usec) { return usec <= 0 ? -1 : usec; }

}  // namespace

void Supervisor::start() {
    // Every start counts toward the start limit, the first one included (as in systemd).
    if (!m_start_limit.allow(monotonic_usec())) {
        m_result = ServiceResult::StartLimitHit;
        enter_final(Phase::Failed);
        return;
    }
    begin_run();
}

void Supervisor::restart() {
    if (!m_start_limit.allow(monotonic_usec())) {
        m_result = ServiceResult::StartLimitHit;  // the last run's exit stays in the status
        enter_final(Phase::Failed);
        return;
    }
    ++m_status.restarts;
    m_status.invocation = new_invocation_id();  // a new one for every automatic restart
    begin_run();
}

void Supervisor::begin_run() {
    m_result = ServiceResult::Success;
    m_main_exit.reset();
    m_condition_skipped = false;
    m_up_since = -1;
    m_watchdog_override = 0;
    m_watchdog_fired = false;
    m_status.exit_code = 0;
    m_status.exit_signal = 0;
    m_status.failed_step.clear();
    m_status.error.clear();
    m_status_dirty = true;
    // RuntimeDirectory= and the others, made (again) for every run, as systemd makes them for every
    // command; a failure fails the run like a command that could not start.
    SetupStep step = SetupStep::None;
    int error = 0;
    if (!make_directories(&step, &error)) {
        m_status.failed_step = to_string(step);
        m_status.error = std::strerror(error);
        set_result(ServiceResult::Resources);
        enter_dead();
        return;
    }
    enter_condition();
}

// Control commands run one after the other from one list; run_controls() starts the first.
void Supervisor::run_controls(const std::vector<Command>& commands, bool with_main_pid, bool with_result) {
    m_controls = &commands;
    m_control_index = 0;
    m_control_main_pid = with_main_pid;
    m_control_result = with_result;
    next_control();
}

// Starts m_controls[m_control_index]; when the list is done, finishes the phase as a success.
void Supervisor::next_control() {
    if (m_controls == nullptr || m_control_index >= m_controls->size()) {
        control_finished(ServiceResult::Success, ProcessExit{});
        return;
    }
    const Command& command = (*m_controls)[m_control_index];
    if (!spawn(m_control, command, manager_env(m_control_main_pid, m_control_result))) {
        // Counts as the command's failure; there is no process to wait for.
        m_controls = nullptr;
        control_finished(ServiceResult::Resources, ProcessExit{1, 0, false});
        return;
    }
    const bool stopping = m_phase == Phase::Stop || m_phase == Phase::StopPost;
    set_deadline(timeout_or_none(stopping ? m_spec.timeout_stop_usec : m_spec.timeout_start_usec));
}

void Supervisor::enter_condition() {
    set_phase(Phase::Condition);
    run_controls(m_spec.exec_condition, false, false);
}

void Supervisor::enter_start_pre() {
    set_phase(Phase::StartPre);
    run_controls(m_spec.exec_start_pre, false, false);
}

void Supervisor::enter_start() {
    set_phase(Phase::Start);
    clear_deadline();
    m_start_index = 0;
    if (m_spec.exec_start.empty()) {
        enter_start_post();
        return;
    }
    set_deadline(timeout_or_none(m_spec.timeout_start_usec));
    // Oneshot runs its commands in turn (main_finished starts the next), each the main process.
    EnvList env = manager_env(false, false);
    if (m_spec.watchdog_usec > 0) env.emplace_back("WATCHDOG_USEC", std::to_string(m_spec.watchdog_usec));
    if (!spawn(m_main, m_spec.exec_start[0], std::move(env))) {
        main_finished(ServiceResult::Resources);
        return;
    }
    m_status.main_pid = m_main.pid;
    m_status_dirty = true;
    switch (m_spec.type) {
        case ServiceType::Exec:
            // Started once execve has succeeded: the report pipe closes without a report.
            watch(m_main.report.get(), EPOLLIN, Tag::MainReport, 0);
            m_main.report_watched = true;
            break;
        case ServiceType::Oneshot:
            break;  // started once every command has exited successfully
        case ServiceType::Notify:
            break;  // started once the service sends READY=1 (supervisor_readiness.cpp)
        case ServiceType::Forking:
            break;  // started once the launcher exits successfully (main_finished)
        default:
            enter_start_post();
            break;
    }
}

void Supervisor::enter_start_post() {
    set_phase(Phase::StartPost);
    clear_deadline();
    run_controls(m_spec.exec_start_post, true, false);
}

void Supervisor::enter_running() {
    clear_deadline();
    if (m_main.pid > 0) {
        set_phase(Phase::Running);
    } else if (m_result == ServiceResult::Success && m_spec.remain_after_exit) {
        set_phase(Phase::Exited);
    } else if (m_spec.type == ServiceType::Forking && m_result == ServiceResult::Success && unit_processes_left()) {
        set_phase(Phase::Exited);  // no main pid known: the unit is left running with its processes
    } else {
        enter_stop(ServiceResult::Success);
        return;
    }
    if (m_up_since < 0) m_up_since = monotonic_usec();  // a reload comes back here: the first time counts
    // RuntimeMaxSec=: counted from when the run first became active.
    if (m_spec.runtime_max_usec > 0)
        set_deadline(std::max<int64_t>(m_spec.runtime_max_usec - (monotonic_usec() - m_up_since), 1));
    // The watchdog runs from the end of the start (or the first WATCHDOG=1 before it) while there is a
    // main process to ping.
    if (m_phase == Phase::Running && !m_watchdog_armed) arm_watchdog();
}

void Supervisor::enter_reload() {
    set_phase(Phase::Reload);
    run_controls(m_spec.exec_reload, true, false);
}

void Supervisor::enter_stop(ServiceResult result) {
    set_result(result);
    abandon_control();
    set_phase(Phase::Stop);
    clear_deadline();
    run_controls(m_spec.exec_stop, true, true);
}

void Supervisor::enter_signal(Phase phase, ServiceResult result) {
    set_result(result);
    set_phase(phase);
    clear_deadline();
    const bool final_kill = phase == Phase::StopSigkill || phase == Phase::FinalSigkill;
    const bool to_all =
        m_spec.kill_mode == KillMode::ControlGroup || (m_spec.kill_mode == KillMode::Mixed && final_kill);
    const auto send = [&](int sig) {
        if (to_all) {
            m_killer.signal_all(sig);
            return;
        }
        if (m_main.pid > 0) ::kill(m_main.pid, sig);
        if (m_control.pid > 0) ::kill(m_control.pid, sig);
    };
    if (m_spec.kill_mode != KillMode::None) {
        // The watchdog's stop begins with WatchdogSignal= (SIGABRT: a core dump shows where it hung), a
        // restart's with RestartKillSignal=.
        int first = m_spec.kill_signal;
        if (phase == Phase::StopSigterm && m_watchdog_fired) {
            first = m_spec.watchdog_signal;
        } else if (phase == Phase::StopSigterm && m_stopping_for_restart && m_spec.restart_kill_signal > 0) {
            first = m_spec.restart_kill_signal;
        }
        send(final_kill ? m_spec.final_kill_signal : first);
        if (!final_kill) {
            send(SIGCONT);  // a stopped process could not act on the signal
            if (m_spec.send_sighup) send(SIGHUP);
        }
    }
    if (kill_phase_waiting()) {
        set_deadline(timeout_or_none(m_spec.timeout_stop_usec));
        return;
    }
    // Nothing the signal phase waits for: on to the SIGKILL phase, which is where KillMode=mixed reaches
    // what is left of the unit (systemd's service_enter_signal()).
    if (!final_kill && m_spec.send_sigkill) {
        enter_signal(phase == Phase::StopSigterm ? Phase::StopSigkill : Phase::FinalSigkill,
                     ServiceResult::Success);
        return;
    }
    after_kill_phase();
}

bool Supervisor::is_kill_phase() const {
    return m_phase == Phase::StopSigterm || m_phase == Phase::StopSigkill || m_phase == Phase::FinalSigterm ||
           m_phase == Phase::FinalSigkill;
}

// What a kill phase waits for: every process of the unit when its signal went to all of them, else the
// main and control processes.
bool Supervisor::kill_phase_waiting() const {
    const bool final_kill = m_phase == Phase::StopSigkill || m_phase == Phase::FinalSigkill;
    if (m_spec.kill_mode == KillMode::ControlGroup || (m_spec.kill_mode == KillMode::Mixed && final_kill)) {
        return unit_processes_left();
    }
    return m_spec.kill_mode != KillMode::None && (m_main.pid > 0 || m_control.pid > 0);
}

// In a kill phase, after processes were reaped: moves on once nothing the phase waits for is left.
void Supervisor::kill_phase_check() {
    if (is_kill_phase() && !kill_phase_waiting()) after_kill_phase();
}

void Supervisor::after_kill_phase() {
    clear_deadline();
    if (m_phase == Phase::StopSigterm || m_phase == Phase::StopSigkill)
        enter_stop_post();
    else
        enter_dead();
}

void Supervisor::enter_stop_post() {
    abandon_control();
    set_phase(Phase::StopPost);
    clear_deadline();
    run_controls(m_spec.exec_stop_post, false, true);
}

void Supervisor::enter_dead() {
    clear_deadline();
    abandon_control();
    // PIDFile=: the service manager removes it once the service has ended (systemd.service(5)), so that a
    // stale pid never names the next start's process.
    if (!m_spec.pid_file.empty()) (void)::unlink(m_spec.pid_file.c_str());
    m_main = Process{};
    m_status.main_pid = 0;
    const ProcessExit* main_exit = m_main_exit ? &*m_main_exit : nullptr;
    if (!m_stop_requested && !m_condition_skipped && should_restart(m_spec, m_result, main_exit)) {
        // RestartSteps=: each restart of a series waits longer; a run that stayed up longer than the
        // longest wait (RestartMaxDelaySec=) ends the series.
        if (m_up_since >= 0 && m_spec.restart_max_delay_usec >= 0 &&
            monotonic_usec() - m_up_since >= m_spec.restart_max_delay_usec) {
            m_restart_series = 0;
        }
        ++m_restart_series;
        after_run_directories(true);
        set_phase(Phase::AutoRestart);
        set_deadline(restart_delay_usec(m_spec, m_restart_series));
        return;
    }
    enter_final(m_result == ServiceResult::Success ? Phase::Dead : Phase::Failed);
}

void Supervisor::enter_final(Phase phase) {
    clear_deadline();
    set_phase(phase);
    m_finished = true;
}

void Supervisor::main_finished(ServiceResult result) {
    switch (m_phase) {
        case Phase::Start:
            if (result != ServiceResult::Success) {
                enter_signal(Phase::StopSigterm, result);
            } else if (m_spec.type == ServiceType::Forking) {
                // The launcher has forked the service and exited: its main process is in PIDFile=, or is
                // the one process left.
                adopt_forked_main();
                enter_start_post();
            } else if (m_spec.type == ServiceType::Notify) {
                // Exited cleanly without READY=1: a broken promise, as systemd calls it.
                enter_signal(Phase::StopSigterm, ServiceResult::Protocol);
            } else if (m_spec.type == ServiceType::Oneshot && m_start_index + 1 < m_spec.exec_start.size()) {
                ++m_start_index;
                if (spawn(m_main, m_spec.exec_start[m_start_index], manager_env(false, false))) {
                    m_status.main_pid = m_main.pid;
                    m_status_dirty = true;
                } else {
                    enter_signal(Phase::StopSigterm, ServiceResult::Resources);
                }
            } else {
                enter_start_post();
            }
            return;
        case Phase::Running:
            set_result(result);
            enter_running();
            return;
        default:
            // start-post, reload, stop and the kill phases go on; the result is kept for the end.
            set_result(result);
            return;
    }
}

void Supervisor::control_finished(ServiceResult result, const ProcessExit& exit) {
    const bool more =
        result == ServiceResult::Success && m_controls != nullptr && m_control_index + 1 < m_controls->size();
    // `exit` is of a command that ran (m_controls set) or the synthetic end of the list.
    switch (m_phase) {
        case Phase::Condition:
            if (result == ServiceResult::Success && exit.signal == 0 && exit.code == 0) break;
            if (result != ServiceResult::Resources && exit.signal == 0 && exit.code >= 1 &&
                exit.code <= 254) {
                // ExecCondition= said no: the unit is skipped, not failed.
                m_condition_skipped = true;
                enter_signal(Phase::StopSigterm, ServiceResult::Success);
                return;
            }
            enter_signal(Phase::StopSigterm,
                         result == ServiceResult::Success ? ServiceResult::ExitCode : result);
            return;
        case Phase::StartPre:
            if (result != ServiceResult::Success) {
                enter_signal(Phase::StopSigterm, result);
                return;
            }
            break;
        case Phase::StartPost:
            if (result != ServiceResult::Success) {
                enter_stop(result);
                return;
            }
            break;
        case Phase::Reload:
            if (result != ServiceResult::Success) {
                enter_running();
                finish_reload(false, "ExecReload= failed");
                return;
            }
            break;
        case Phase::Stop:
            if (result != ServiceResult::Success) {
                enter_signal(Phase::StopSigterm, result);
                return;
            }
            break;
        case Phase::StopPost:
            set_result(result);
            if (result != ServiceResult::Success && m_controls != nullptr &&
                m_control_index + 1 < m_controls->size()) {
                // ExecStopPost= commands all run, whatever the earlier ones did.
                ++m_control_index;
                next_control();
                return;
            }
            break;
        default:
            return;  // a control process killed in a kill phase, or abandoned
    }
    if (more) {
        ++m_control_index;
        next_control();
        return;
    }
    m_controls = nullptr;
    switch (m_phase) {
        case Phase::Condition:
            enter_start_pre();
            break;
        case Phase::StartPre:
            enter_start();
            break;
        case Phase::StartPost:
            enter_running();
            break;
        case Phase::Reload:
            enter_running();  // the reply comes after the state is back
            finish_reload(true, "");
            break;
        case Phase::Stop:
            enter_signal(Phase::StopSigterm, ServiceResult::Success);
            break;
        case Phase::StopPost:
            enter_signal(Phase::FinalSigterm, ServiceResult::Success);
            break;
        default:
            break;
    }
}

void Supervisor::on_deadline() {
    switch (m_phase) {
        case Phase::Condition:
        case Phase::StartPre:
        case Phase::Start:
            enter_signal(Phase::StopSigterm, ServiceResult::Timeout);
            break;
        case Phase::StartPost:
            enter_stop(ServiceResult::Timeout);
            break;
        case Phase::Reload:
            abandon_control();
            enter_running();
            finish_reload(false, "ExecReload= timed out");
            break;
        case Phase::Stop:
            // One ExecStop= command took too long: skip the rest, go on with the kill signal.
            abandon_control();
            enter_signal(Phase::StopSigterm, ServiceResult::Timeout);
            break;
        case Phase::StopSigterm:
            set_result(ServiceResult::Timeout);
            if (m_spec.send_sigkill)
                enter_signal(Phase::StopSigkill, ServiceResult::Timeout);
            else
                enter_stop_post();
            break;
        case Phase::StopSigkill:
            enter_stop_post();
            break;  // still there after SIGKILL: give up waiting
        case Phase::StopPost:
            abandon_control();
            enter_signal(Phase::FinalSigterm, ServiceResult::Timeout);
            break;
        case Phase::FinalSigterm:
            set_result(ServiceResult::Timeout);
            if (m_spec.send_sigkill)
                enter_signal(Phase::FinalSigkill, ServiceResult::Timeout);
            else
                enter_dead();
            break;
        case Phase::FinalSigkill:
            enter_dead();
            break;
        case Phase::AutoRestart:
            restart();
            break;
        case Phase::Running:
        case Phase::Exited: {
            // RuntimeMaxSec= reached: stopped as a failure, result timeout (systemd.service(5)).
            const int64_t max = m_spec.runtime_max_usec;
            const std::string limit = max % 1'000'000 == 0 ? std::to_string(max / 1'000'000) + " s"
                                                           : std::to_string(max / 1000) + " ms";
            m_log.write_line("marker", m_status.invocation, "-- RuntimeMaxSec= (" + limit + ") reached: stopping --",
                             realtime_usec());
            enter_stop(ServiceResult::Timeout);
            break;
        }
        default:
            break;
    }
}

void Supervisor::request_stop() {
    m_stop_requested = true;
    switch (m_phase) {
        case Phase::Condition:
        case Phase::StartPre:
        case Phase::Start:
        case Phase::StartPost:
            // Something is running already: straight to the kill signal, as systemd does.
            enter_signal(Phase::StopSigterm, ServiceResult::Success);
            break;
        case Phase::Reload:
            finish_reload(false, "stopped");
            enter_signal(Phase::StopSigterm, ServiceResult::Success);
            break;
        case Phase::Running:
        case Phase::Exited:
            enter_stop(ServiceResult::Success);
            break;
        case Phase::AutoRestart:
            enter_final(Phase::Dead);
            break;
        default:
            break;  // already stopping, or done
    }
}

void Supervisor::set_result(ServiceResult result) {
    // The first failure is the one reported.
    if (m_result == ServiceResult::Success && result != ServiceResult::Success) {
        m_result = result;
        m_status_dirty = true;
    }
}

void Supervisor::set_phase(Phase phase) {
    m_phase = phase;
    const bool watched = phase == Phase::Start || phase == Phase::StartPost || phase == Phase::Running ||
                         phase == Phase::Reload;
    if (m_watchdog_armed && !watched) disarm_watchdog();
    UnitState state = UnitState::Inactive;
    SubState sub_state = SubState::Dead;
    switch (phase) {
        case Phase::Condition:
        case Phase::StartPre:
            state = UnitState::Activating, sub_state = SubState::StartPre;
            break;
        case Phase::Start:
        case Phase::StartPost:
            state = UnitState::Activating, sub_state = SubState::Start;
            break;
        case Phase::Running:
            state = UnitState::Active, sub_state = SubState::Running;
            break;
        case Phase::Exited:
            state = UnitState::Active, sub_state = SubState::Exited;
            break;
        case Phase::Reload:
            state = UnitState::Reloading, sub_state = SubState::Reload;
            break;
        case Phase::Stop:
        case Phase::StopSigterm:
        case Phase::StopSigkill:
        case Phase::StopPost:
        case Phase::FinalSigterm:
        case Phase::FinalSigkill:
            state = UnitState::Deactivating, sub_state = SubState::Stop;
            break;
        case Phase::AutoRestart:
            state = UnitState::Activating, sub_state = SubState::AutoRestart;
            break;
        case Phase::Dead:
            state = UnitState::Inactive, sub_state = SubState::Dead;
            break;
        case Phase::Failed:
            state = UnitState::Failed, sub_state = SubState::Failed;
            break;
    }
    if (state == m_status.state && sub_state == m_status.sub_state && m_status.since_usec != 0) return;
    m_status.state = state;
    m_status.sub_state = sub_state;
    m_status.since_usec = realtime_usec();
    publish();  // every state change is written and pushed at once
}

}  // namespace gitvisor::exec
