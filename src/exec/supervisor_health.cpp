// HealthCheckExec=: gitvisord asks ({"op":"health","timeout_usec":N}) and gitvisor-exec runs the command as
// it runs the unit's own (its user, environment, namespace and cgroup), answering
// {"ok":true,"healthy":BOOL,"detail":TEXT} when it ends or its time is up. One run at a time: a request
// that arrives while one runs is answered with that run's outcome.

#include <fcntl.h>
#include <signal.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstring>

#include "common/json.h"
#include "common/json_reader.h"
#include "exec/spawn.h"
#include "exec/supervisor.h"

namespace gitvisor::exec {
namespace {

constexpr size_t kCapturedBytes = 512;
constexpr int64_t kDefaultTimeoutUsec = 5'000'000;

// The last line of what the command printed, for the detail.
std::string last_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    if (const size_t nl = text.rfind('\n'); nl != std::string::npos) text.erase(0, nl + 1);
    return text;
}

}  // namespace

void Supervisor::start_health_check(Client& client, const JsonValue& request) {
    const auto reply_error = [&](const std::string& message) {
        send(client, "{\"ok\":false,\"error\":" + json_quote(message) + "}");
    };
    if (m_spec.health_check_exec.empty()) return reply_error("the unit has no HealthCheckExec=");
    if (m_phase != Phase::Running && m_phase != Phase::Exited && m_phase != Phase::Reload)
        return reply_error(std::string("cannot check while ") + to_string(m_status.state));
    client.wants_health = true;
    if (m_health.pid > 0 && !m_health.answered) return;  // answered with the run in progress

    int64_t timeout = kDefaultTimeoutUsec;
    if (const JsonValue* t = request.find("timeout_usec"); t != nullptr && t->is_integer() && t->as_integer() > 0)
        timeout = t->as_integer();
    int pipe_fds[2] = {-1, -1};
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return answer_health(false, std::string("pipe: ") + std::strerror(errno));
    ChildPlan plan;
    plan.spec = &m_spec;
    plan.command = &m_spec.health_check_exec.front();
    plan.manager_env = manager_env(true, false);
    plan.stdout_fd = pipe_fds[1];
    plan.stderr_fd = pipe_fds[1];
    plan.unprotected_mount_namespace = m_unprotected_namespace ? m_unprotected_namespace.get() : -1;
    plan.host_uts_namespace = m_host_uts_namespace ? m_host_uts_namespace.get() : -1;
    plan.seccomp = m_seccomp ? &*m_seccomp : nullptr;
    int error = 0;
    auto spawned = spawn_command(plan, &error);
    ::close(pipe_fds[1]);
    if (!spawned) {
        ::close(pipe_fds[0]);
        return answer_health(false, std::string("cannot start HealthCheckExec=: ") + std::strerror(error));
    }
    m_health = HealthRun{};
    m_health.pid = spawned->pid;
    m_health.output.reset(pipe_fds[0]);
    ::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
    watch(pipe_fds[0], EPOLLIN, Tag::HealthOutput, 0);
    m_health.timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (m_health.timer) {
        itimerspec when{};
        when.it_value.tv_sec = timeout / 1'000'000;
        when.it_value.tv_nsec = (timeout % 1'000'000) * 1000;
        ::timerfd_settime(m_health.timer.get(), 0, &when, nullptr);
        watch(m_health.timer.get(), EPOLLIN, Tag::HealthTimer, 0);
    }
}

void Supervisor::on_health_output() {
    if (!m_health.output) return;
    char buffer[4096];
    while (true) {
        const ssize_t n = ::read(m_health.output.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0 || errno != EAGAIN) {
                ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, m_health.output.get(), nullptr);
                m_health.output.reset();
            }
            return;
        }
        m_health.captured.append(buffer, static_cast<size_t>(n));
        if (m_health.captured.size() > 2 * kCapturedBytes)
            m_health.captured.erase(0, m_health.captured.size() - kCapturedBytes);
    }
}

void Supervisor::on_health_timer() {
    if (m_health.timer) {
        ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, m_health.timer.get(), nullptr);
        m_health.timer.reset();
    }
    if (m_health.pid <= 0 || m_health.answered) return;
    // The command and what it started: it leads a process group of its own (setsid, as every command).
    ::kill(-m_health.pid, SIGKILL);
    ::kill(m_health.pid, SIGKILL);
    m_health.answered = true;
    answer_health(false, "HealthCheckExec= timed out");
}

void Supervisor::health_exited(const ProcessExit& exit) {
    on_health_output();  // what is left in the pipe
    if (m_health.output) {
        ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, m_health.output.get(), nullptr);
        m_health.output.reset();
    }
    if (m_health.timer) {
        ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, m_health.timer.get(), nullptr);
        m_health.timer.reset();
    }
    const bool answered = m_health.answered;
    const std::string output = last_line(m_health.captured);
    m_health = HealthRun{};
    if (answered) return;
    std::string detail = exit.signal != 0 ? "HealthCheckExec= killed by signal " + std::to_string(exit.signal)
                                          : "HealthCheckExec= exit status " + std::to_string(exit.code);
    if (!output.empty()) detail += ": " + output;
    answer_health(exit.signal == 0 && exit.code == 0, detail);
}

void Supervisor::answer_health(bool healthy, const std::string& detail) {
    const std::string line = std::string("{\"ok\":true,\"healthy\":") + (healthy ? "true" : "false") +
                             ",\"detail\":" + json_quote(detail) + "}";
    for (Client& client : m_clients) {
        if (!client.wants_health || client.closed) continue;
        client.wants_health = false;
        send(client, line);
    }
}

}  // namespace gitvisor::exec
