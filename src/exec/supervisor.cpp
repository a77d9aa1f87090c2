#include "exec/supervisor.h"

// The event loop, the processes and their output. The state machine is in supervisor_states.cpp.

#include <fcntl.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "exec/clock.h"
#include "exec/spawn.h"

namespace gitvisor::exec {
namespace {

// Signals read through the signalfd: SIGCHLD, the two that stop the unit, and those forwarded to the
// main process (as tini forwards them).
constexpr int kHandledSignals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGWINCH};

// At most this much output is read from one pipe per wake-up, so a chatty service cannot starve the
// control socket or the signals.
constexpr size_t kReadBudget = 64 * 1024;

// Free heap memory growing by more than this is returned to the system before the loop sleeps.
constexpr size_t kTrimAbove = 32 * 1024;

}  // namespace

Supervisor::Supervisor(Spec spec, bool namespace_init)
    : m_spec(std::move(spec)),
      m_namespace_init(namespace_init),
      m_killer(namespace_init, m_spec.cgroup_procs),
      m_start_limit(m_spec.start_limit_interval_usec, m_spec.start_limit_burst) {
    m_status.unit = m_spec.unit;
    m_status.invocation = m_spec.invocation.empty() ? new_invocation_id() : m_spec.invocation;
    m_status.exec_pid = ::getpid();
}

Result<bool> Supervisor::open() {
    const auto fail = [](const std::string& what) {
        return Result<bool>::fail(what + ": " + std::strerror(errno));
    };
    m_epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!m_epoll) return fail("cannot create the event loop");

    sigset_t signals;
    sigemptyset(&signals);
    for (const int sig : kHandledSignals) sigaddset(&signals, sig);
    ::sigprocmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);  // a client that went away is an EPIPE, not a death
    m_signal_fd.reset(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!m_signal_fd) return fail("cannot create a signalfd");
    watch(m_signal_fd.get(), EPOLLIN, Tag::Signal, 0);
    m_timer_fd.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!m_timer_fd) return fail("cannot create a timerfd");
    watch(m_timer_fd.get(), EPOLLIN, Tag::Timer, 0);

    auto status_path = open_parent(m_spec.status_file);
    if (!status_path) return Result<bool>::fail(status_path.error());
    m_status_path = std::move(*status_path);

    // The log is not vital: without it the service still runs (its output is then dropped).
    if (auto log = m_log.open(m_spec.log_file, m_spec.log_max_bytes, m_spec.log_keep); !log) {
        std::string message = "gitvisor-exec: " + m_spec.unit + ": " + log.error() + "\n";
        [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, message.data(), message.size());
    }
    if (auto notify = open_notify_socket(); !notify) return notify;
    // Where this start begins in the log (a deploy, a `gitvisor restart`...): before any output of it.
    if (!m_spec.log_marker.empty()) m_log.write_line("marker", m_status.invocation, m_spec.log_marker, realtime_usec());

    auto socket_path = open_parent(m_spec.control_socket);
    if (!socket_path) return Result<bool>::fail(socket_path.error());
    m_socket_path = std::move(*socket_path);
    ::unlinkat(m_socket_path.dir.get(), m_socket_path.name.c_str(), 0);  // a stale socket of an earlier run
    m_listen_fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!m_listen_fd) return fail("cannot create the control socket");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    // A long path is reached through the directory's descriptor.
    std::string bind_path = m_spec.control_socket;
    if (bind_path.size() >= sizeof address.sun_path) {
        bind_path = "/proc/self/fd/" + std::to_string(m_socket_path.dir.get()) + "/" + m_socket_path.name;
    }
    if (bind_path.size() >= sizeof address.sun_path) {
        return Result<bool>::fail("cannot bind '" + m_spec.control_socket + "': path too long");
    }
    std::memcpy(address.sun_path, bind_path.c_str(), bind_path.size() + 1);
    if (::bind(m_listen_fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        return fail("cannot bind '" + m_spec.control_socket + "'");
    }
    ::fchmodat(m_socket_path.dir.get(), m_socket_path.name.c_str(), 0600, 0);
    if (::listen(m_listen_fd.get(), 16) != 0) return fail("cannot listen on '" + m_spec.control_socket + "'");
    watch(m_listen_fd.get(), EPOLLIN, Tag::Listen, 0);
    return Result<bool>::ok(true);
}

void Supervisor::fail_at_startup(SetupStep step, int error) {
    m_startup_failure = step;
    m_startup_error = error;
}

int Supervisor::run() {
    if (m_startup_failure != SetupStep::None) {
        m_status.failed_step = to_string(m_startup_failure);
        m_status.error = std::strerror(m_startup_error);
        m_result = ServiceResult::Resources;
        enter_final(Phase::Failed);
    } else {
        start();
    }
    while (!m_finished) {
        remove_closed();
        flush_status();
        release_free_memory();
        epoll_event events[8];
        const int n = ::epoll_wait(m_epoll.get(), events, 8, -1);
        for (int i = 0; i < n; ++i) dispatch(events[i].data.u64, events[i].events);
    }
    // The service has ended for good: write out its last words, then answer whoever asked for the stop.
    drain_outputs();
    remove_directories();  // RuntimeDirectory=, unless RuntimeDirectoryPreserve=yes
    flush_status();
    reply_to_waiters();
    flush_clients_before_exit();
    ::unlinkat(m_socket_path.dir.get(), m_socket_path.name.c_str(), 0);
    if (m_last_main_exit) return m_last_main_exit->shell_status();
    return m_result == ServiceResult::Success ? 0 : 1;
}

void Supervisor::release_free_memory() {
    // Memory freed after a burst (output, clients) goes back before the loop sleeps: this process lives
    // as long as the unit, once per unit. Only growth counts, so a fragmented heap is not trimmed again
    // on every wake-up.
    const size_t free_bytes = ::mallinfo2().fordblks;
    if (free_bytes > m_free_after_trim + kTrimAbove) {
        ::malloc_trim(0);
        m_free_after_trim = ::mallinfo2().fordblks;
    } else if (free_bytes < m_free_after_trim) {
        m_free_after_trim = free_bytes;
    }
}

void Supervisor::watch(int fd, uint32_t events, Tag tag, uint32_t id) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = (static_cast<uint64_t>(tag) << 32) | id;
    ::epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, fd, &event);
}

void Supervisor::dispatch(uint64_t data, uint32_t events) {
    const auto tag = static_cast<Tag>(data >> 32);
    const auto id = static_cast<uint32_t>(data & 0xFFFFFFFFu);
    switch (tag) {
        case Tag::Signal:
            on_signals();
            break;
        case Tag::Timer:
            on_timer();
            break;
        case Tag::Listen:
            on_accept();
            break;
        case Tag::Client:
            on_client(id, events);
            break;
        case Tag::Output:
            on_output(id);
            break;
        case Tag::MainReport:
            on_main_report();
            break;
        case Tag::Notify:
            on_notify();
            break;
        case Tag::HealthOutput:
            on_health_output();
            break;
        case Tag::HealthTimer:
            on_health_timer();
            break;
        case Tag::WatchdogTimer:
            on_watchdog_timer();
            break;
    }
}

void Supervisor::on_signals() {
    bool child = false;
    signalfd_siginfo info{};
    while (::read(m_signal_fd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        const int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGCHLD) {
            child = true;
        } else if (sig == SIGTERM || sig == SIGINT) {
            request_stop();
        } else if (m_main.pid > 0) {
            ::kill(m_main.pid, sig);
        }
    }
    if (child) reap_children();
}

void Supervisor::reap_children() {
    // Every child, the unit's orphans included (gitvisor-exec is their init or subreaper).
    while (true) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) break;
        const ProcessExit exit = ProcessExit::from_wait_status(status);
        if (pid == m_main.pid) {
            take_report(m_main);
            const bool ignore_failure = m_main.command != nullptr && m_main.command->ignore_failure;
            m_main = Process{};
            m_status.main_pid = 0;
            m_main_exit = exit;
            m_last_main_exit = exit;
            m_status.exit_code = exit.code;
            m_status.exit_signal = exit.signal;
            m_status_dirty = true;
            const bool clean = ignore_failure || is_clean_exit(exit, clean_mode_of_main(m_spec.type),
                                                               &m_spec.success_exit_status);
            main_finished(result_of_exit(exit, clean));
        } else if (pid == m_control.pid) {
            take_report(m_control);
            const bool ignore_failure = m_control.command != nullptr && m_control.command->ignore_failure;
            m_control = Process{};
            const bool clean = ignore_failure || is_clean_exit(exit, CleanMode::CodeOnly, nullptr);
            if (!clean) {
                m_status.exit_code = exit.code;
                m_status.exit_signal = exit.signal;
                m_status_dirty = true;
            }
            control_finished(result_of_exit(exit, clean), exit);
        } else if (pid == m_health.pid) {
            health_exited(exit);
        }
    }
    kill_phase_check();
}

bool Supervisor::unit_processes_left() const {
    siginfo_t info{};
    // Running or not yet reaped children; as init or subreaper, every process of the unit ends up one.
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0) return errno != ECHILD;
    return true;
}

bool Supervisor::spawn(Process& process, const Command& command, EnvList env) {
    // A pipe to the log for each stream that goes there (StandardOutput=journal; StandardError=journal,
    // or inherit while standard output goes to the log: its lines are still marked stderr).
    using Kind = OutputTarget::Kind;
    const bool stdout_logged = m_spec.standard_output.kind == Kind::Journal;
    const bool stderr_logged = m_spec.standard_error.kind == Kind::Journal ||
                               (m_spec.standard_error.kind == Kind::Inherit && stdout_logged);
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    if (stdout_logged && ::pipe2(out, O_CLOEXEC) != 0) out[0] = out[1] = -1;
    if (stderr_logged && ::pipe2(err, O_CLOEXEC) != 0) err[0] = err[1] = -1;
    ChildPlan plan;
    plan.spec = &m_spec;
    plan.command = &command;
    plan.manager_env = std::move(env);
    plan.stdout_fd = out[1];
    plan.stderr_fd = err[1];
    plan.unprotected_mount_namespace = m_unprotected_namespace ? m_unprotected_namespace.get() : -1;
    plan.host_uts_namespace = m_host_uts_namespace ? m_host_uts_namespace.get() : -1;
    plan.seccomp = m_seccomp ? &*m_seccomp : nullptr;
    int error = 0;
    auto spawned = spawn_command(plan, &error);
    for (const int fd : {out[1], err[1]}) {
        if (fd >= 0) ::close(fd);
    }
    if (!spawned) {
        for (const int fd : {out[0], err[0]}) {
            if (fd >= 0) ::close(fd);
        }
        m_status.failed_step = to_string(SetupStep::Fork);
        m_status.error = std::strerror(error);
        m_status_dirty = true;
        return false;
    }
    for (const int fd : {out[0], err[0]}) {
        if (fd < 0) continue;
        ::fcntl(fd, F_SETFL, O_NONBLOCK);
        OutputPipe pipe;
        pipe.id = m_next_id++;
        pipe.fd.reset(fd);
        pipe.is_stderr = fd == err[0];
        pipe.invocation = m_status.invocation;
        watch(fd, EPOLLIN, Tag::Output, pipe.id);
        m_outputs.push_back(std::move(pipe));
    }
    process.pid = spawned->pid;
    process.report = std::move(spawned->report);
    process.command = &command;
    process.report_watched = false;
    return true;
}

EnvList Supervisor::manager_env(bool with_main_pid, bool with_result) const {
    EnvList env;
    env.emplace_back("INVOCATION_ID", m_status.invocation);
    if (with_main_pid && m_main.pid > 0) env.emplace_back("MAINPID", std::to_string(m_main.pid));
    if (m_notify_fd) env.emplace_back("NOTIFY_SOCKET", m_spec.notify_socket);
    if (with_result) {
        env.emplace_back("SERVICE_RESULT", to_string(m_result));
        if (m_main_exit) {
            const ProcessExit& exit = *m_main_exit;
            env.emplace_back("EXIT_CODE", exit.signal == 0   ? "exited"
                                          : exit.core_dumped ? "dumped"
                                                             : "killed");
            const char* name = exit.signal != 0 ? ::sigabbrev_np(exit.signal) : nullptr;
            env.emplace_back("EXIT_STATUS", exit.signal == 0  ? std::to_string(exit.code)
                                            : name != nullptr ? std::string(name)
                                                              : std::to_string(exit.signal));
        }
    }
    return env;
}

void Supervisor::take_report(Process& process) {
    if (!process.report) return;
    SetupReport report;
    if (read_report(process.report.get(), report) == ReportState::Failed) {
        m_status.failed_step = to_string(static_cast<SetupStep>(report.step));
        m_status.error = std::strerror(report.error);
        m_status_dirty = true;
    }
    if (process.report_watched) ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, process.report.get(), nullptr);
    process.report.reset();
    process.report_watched = false;
}

void Supervisor::on_main_report() {
    if (!m_main.report) return;
    SetupReport report;
    const ReportState state = read_report(m_main.report.get(), report);
    if (state == ReportState::Pending) return;
    if (state == ReportState::Failed) {
        m_status.failed_step = to_string(static_cast<SetupStep>(report.step));
        m_status.error = std::strerror(report.error);
        m_status_dirty = true;
    }
    ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, m_main.report.get(), nullptr);
    m_main.report.reset();
    m_main.report_watched = false;
    // Type=exec is started once its execve has succeeded; a failure is handled when the child is reaped.
    if (state == ReportState::Executed && m_phase == Phase::Start && m_spec.type == ServiceType::Exec) {
        enter_start_post();
    }
}

void Supervisor::abandon_control() {
    if (m_control.pid <= 0) return;
    ::kill(m_control.pid, SIGKILL);
    if (m_control.report_watched) ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, m_control.report.get(), nullptr);
    m_control = Process{};  // reaped later like any orphan
}

void Supervisor::set_deadline(int64_t usec) {
    if (usec < 0) {
        clear_deadline();
        return;
    }
    m_deadline = monotonic_usec() + usec;
    itimerspec spec{};
    spec.it_value.tv_sec = static_cast<time_t>(m_deadline / 1'000'000);
    spec.it_value.tv_nsec = static_cast<long>(m_deadline % 1'000'000) * 1000;
    ::timerfd_settime(m_timer_fd.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void Supervisor::clear_deadline() {
    if (m_deadline < 0) return;
    m_deadline = -1;
    const itimerspec disarm{};
    ::timerfd_settime(m_timer_fd.get(), 0, &disarm, nullptr);
}

void Supervisor::on_timer() {
    uint64_t expirations = 0;
    [[maybe_unused]] const ssize_t n = ::read(m_timer_fd.get(), &expirations, sizeof expirations);
    if (m_deadline < 0 || monotonic_usec() < m_deadline) return;
    m_deadline = -1;
    on_deadline();
}

void Supervisor::on_output(uint32_t id) {
    const auto it = std::find_if(m_outputs.begin(), m_outputs.end(),
                                 [&](const OutputPipe& pipe) { return pipe.id == id; });
    if (it == m_outputs.end()) return;
    if (!read_output(*it, kReadBudget)) {
        ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, it->fd.get(), nullptr);
        m_outputs.erase(it);
    }
}

bool Supervisor::read_output(OutputPipe& pipe, size_t budget) {
    const char* stream = pipe.is_stderr ? "stderr" : "stdout";
    const auto emit = [&](std::string_view line) {
        m_log.write_line(stream, pipe.invocation, line, realtime_usec());
    };
    char buffer[8192];
    size_t total = 0;
    while (total < budget) {
        const ssize_t n = ::read(pipe.fd.get(), buffer, sizeof buffer);
        if (n > 0) {
            pipe.lines.feed(std::string_view(buffer, static_cast<size_t>(n)), emit);
            total += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return true;
        pipe.lines.finish(emit);  // closed: the last line, even without its newline
        return false;
    }
    return true;
}

void Supervisor::drain_outputs() {
    for (OutputPipe& pipe : m_outputs) {
        if (read_output(pipe, 16 * 1024 * 1024)) {
            // Still open (a process of KillMode=process/none lives on): keep what was said.
            pipe.lines.finish([&](std::string_view line) {
                m_log.write_line(pipe.is_stderr ? "stderr" : "stdout", pipe.invocation, line,
                                 realtime_usec());
            });
        }
    }
    m_outputs.clear();
}

}  // namespace gitvisor::exec
