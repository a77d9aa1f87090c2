#include "exec/supervisor.h"

// WatchdogSec= (systemd.service(5)): from the end of the start, the service sends WATCHDOG=1 over
// $NOTIFY_SOCKET at least every WatchdogSec= ($WATCHDOG_USEC tells it how often). When a ping is late, the
// service is taken for hung: its stop begins with WatchdogSignal= (SIGABRT) to the main process (or to all,
// as KillMode= says), the rest of the stop follows as usual, and the result is `watchdog`, which
// Restart=on-watchdog, on-abnormal, on-failure and always restart.

#include <sys/timerfd.h>

#include <string>

#include "exec/clock.h"

namespace gitvisor::exec {

int64_t Supervisor::watchdog_usec() const {
    return m_watchdog_override > 0 ? m_watchdog_override : m_spec.watchdog_usec;
}

void Supervisor::arm_watchdog() {
    const int64_t usec = watchdog_usec();
    if (usec <= 0) return;
    if (!m_watchdog_timer) {
        m_watchdog_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
        if (!m_watchdog_timer) return;
        watch(m_watchdog_timer.get(), EPOLLIN, Tag::WatchdogTimer, 0);
    }
    itimerspec when{};
    when.it_value.tv_sec = usec / 1'000'000;
    when.it_value.tv_nsec = (usec % 1'000'000) * 1000;
    ::timerfd_settime(m_watchdog_timer.get(), 0, &when, nullptr);
    m_watchdog_armed = true;
}

void Supervisor::disarm_watchdog() {
    m_watchdog_armed = false;
    if (!m_watchdog_timer) return;
    const itimerspec off{};
    ::timerfd_settime(m_watchdog_timer.get(), 0, &off, nullptr);
}

void Supervisor::on_watchdog_timer() {
    uint64_t expirations = 0;
    while (::read(m_watchdog_timer.get(), &expirations, sizeof expirations) > 0) {
    }
    if (m_watchdog_armed) watchdog_expired();
}

void Supervisor::watchdog_expired() {
    disarm_watchdog();
    const int64_t usec = watchdog_usec();
    const std::string limit =
        usec % 1'000'000 == 0 ? std::to_string(usec / 1'000'000) + " s" : std::to_string(usec / 1000) + " ms";
    m_log.write_line("marker", m_status.invocation, "-- watchdog timeout (limit " + limit + "): stopping --",
                     realtime_usec());
    m_watchdog_fired = true;
    abandon_control();
    enter_signal(Phase::StopSigterm, ServiceResult::Watchdog);
}

}  // namespace gitvisor::exec
