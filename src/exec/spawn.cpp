#include "exec/spawn.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gitvisor::exec {

Result<Spawned> spawn_command(const ChildPlan& plan, int* error_number) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        *error_number = errno;
        return Result<Spawned>::fail(std::strerror(errno));
    }
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    const pid_t pid = ::fork();
    if (pid < 0) {
        *error_number = errno;
        return Result<Spawned>::fail(std::strerror(errno));
    }
    if (pid == 0) {
        read_end.reset();
        run_child(plan, write_end.get());
    }
    write_end.reset();
    ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
    Spawned spawned;
    spawned.pid = pid;
    spawned.report = std::move(read_end);
    return Result<Spawned>::ok(std::move(spawned));
}

ReportState read_report(int fd, SetupReport& report) {
    while (true) {
        const ssize_t n = ::read(fd, &report, sizeof report);
        if (n < 0 && errno == EINTR) continue;
        if (n == static_cast<ssize_t>(sizeof report)) return ReportState::Failed;
        if (n == 0) return ReportState::Executed;
        if (n < 0 && errno == EAGAIN) return ReportState::Pending;
        return ReportState::Executed;  // a torn report cannot happen (one write under PIPE_BUF)
    }
}

}  // namespace gitvisor::exec
