#include "exec/exit_policy.h"

#include <sys/wait.h>

#include <cmath>
#include <csignal>

namespace gitvisor::exec {

ProcessExit ProcessExit::from_wait_status(int status) {
    ProcessExit exit;
    if (WIFEXITED(status)) {
        exit.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        exit.signal = WTERMSIG(status);
        exit.core_dumped = WCOREDUMP(status);
    }
    return exit;
}

CleanMode clean_mode_of_main(ServiceType type) {
    return type == ServiceType::Oneshot ? CleanMode::CodeOnly : CleanMode::Daemon;
}

bool is_clean_exit(const ProcessExit& exit, CleanMode mode, const ExitStatusSet* success) {
    if (exit.signal == 0) return exit.code == 0 || (success != nullptr && success->has_status(exit.code));
    if (exit.core_dumped) return false;
    if (mode == CleanMode::Daemon && (exit.signal == SIGHUP || exit.signal == SIGINT ||
                                      exit.signal == SIGTERM || exit.signal == SIGPIPE)) {
        return true;
    }
    return success != nullptr && success->has_signal(exit.signal);
}

ServiceResult result_of_exit(const ProcessExit& exit, bool clean) {
    if (clean) return ServiceResult::Success;
    if (exit.signal == 0) return ServiceResult::ExitCode;
    return exit.core_dumped ? ServiceResult::CoreDump : ServiceResult::Signal;
}

bool should_restart(const Spec& spec, ServiceResult result, const ProcessExit* main_exit) {
    const auto listed = [&](const ExitStatusSet& set) {
        if (main_exit == nullptr) return false;
        return main_exit->signal == 0 ? set.has_status(main_exit->code) : set.has_signal(main_exit->signal);
    };
    if (listed(spec.restart_prevent_exit_status)) return false;
    if (listed(spec.restart_force_exit_status)) return true;
    switch (spec.restart) {
        case RestartPolicy::No:
            return false;
        case RestartPolicy::Always:
            return true;
        case RestartPolicy::OnSuccess:
            return result == ServiceResult::Success;
        case RestartPolicy::OnFailure:
            return result != ServiceResult::Success;
        case RestartPolicy::OnAbnormal:
            return result != ServiceResult::Success && result != ServiceResult::ExitCode;
        case RestartPolicy::OnWatchdog:
            return result == ServiceResult::Watchdog;
        case RestartPolicy::OnAbort:
            return result == ServiceResult::Signal || result == ServiceResult::CoreDump;
    }
    return false;
}

int64_t restart_delay_usec(const Spec& spec, int64_t restart) {
    int64_t base = spec.restart_usec;
    const int64_t max = spec.restart_max_delay_usec;
    if (base < 0) return kInfinity;
    if (max >= 0 && base > max) base = max;  // systemd: "resetting RestartSec= to RestartMaxDelaySec="
    if (restart <= 1 || spec.restart_steps <= 0 || base == 0 || max < 0 || base >= max) return base;
    if (restart > spec.restart_steps) return max;
    const long double ratio = static_cast<long double>(max) / static_cast<long double>(base);
    const long double exponent =
        static_cast<long double>(restart - 1) / static_cast<long double>(spec.restart_steps);
    return static_cast<int64_t>(static_cast<long double>(base) * std::pow(ratio, exponent));
}

bool StartLimit::allow(int64_t now_usec) {
    if (m_interval == 0 || m_burst <= 0) return true;
    const bool window_over = m_interval > 0 && now_usec - m_begin > m_interval;  // < 0: infinity
    if (m_begin < 0 || window_over) {
        m_begin = now_usec;
        m_count = 1;
        return true;
    }
    ++m_count;
    return m_count <= m_burst;
}

}  // namespace gitvisor::exec
