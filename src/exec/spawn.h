#pragma once
// Starting one command: fork, with a close-on-exec report pipe through which the child says which
// set-up step failed (setup.h). The parent reads the pipe without blocking.

#include <sys/types.h>

#include "common/result.h"
#include "exec/setup.h"
#include "common/unique_fd.h"

namespace gitvisor::exec {

struct Spawned {
    pid_t pid = -1;
    UniqueFd report;  // read end of the report pipe, non-blocking
};

// Forks a child that runs `plan` (run_child). Errors: the errno text of pipe() or fork().
Result<Spawned> spawn_command(const ChildPlan& plan, int* error_number);

enum class ReportState {
    Pending,   // the child is still setting up
    Executed,  // the pipe closed without a report: execve succeeded (or the child died first)
    Failed,    // `report` says which step failed
};

// Reads what the report pipe holds now.
ReportState read_report(int fd, SetupReport& report);

}  // namespace gitvisor::exec
