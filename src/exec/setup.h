#pragma once
// The set-up of one command, in the child forked for it (DESIGN §4): signals, session, stdio, umask,
// nice, OOM score, rlimits, user and groups, environment, working directory, no-new-privileges, then
// execve. gitvisor-exec is single-threaded, so the child may allocate, read files and look up users.
//
// A step that fails is reported to the parent as a SetupReport through a close-on-exec pipe (so the
// parent also learns that execve succeeded: the pipe closes without a report), and the child exits with
// systemd's exit code for that step (203 for EXEC, 200 for CHDIR, ...).

#include <cstdint>
#include <string>

#include "exec/environment.h"
#include "exec/spec.h"

namespace gitvisor::exec {

enum class SetupStep : int32_t {
    None = 0,
    SignalMask,
    Setsid,
    Stdin,
    Stdout,
    Stderr,
    Nice,
    OomAdjust,
    Rlimit,
    User,
    Group,
    EnvironmentFile,
    Chdir,
    NoNewPrivileges,
    Exec,
    Cgroup,     // joining the unit's cgroup (gitvisor-exec itself, at start-up)
    Namespace,  // PrivateTmp= mounts (gitvisor-exec itself, at start-up)
    Fork,       // fork() or pipe() failed in gitvisor-exec
};

// "EXEC", "CHDIR", "ENVIRONMENT-FILE", ... ("" for None).
const char* to_string(SetupStep step);
// systemd's exit code for the step (EXIT_EXEC = 203, ...).
int exit_code_of(SetupStep step);

// What the child writes to the report pipe when a step fails.
struct SetupReport {
    int32_t step = 0;   // SetupStep
    int32_t error = 0;  // errno
};

struct ChildPlan {
    const Spec* spec = nullptr;
    const Command* command = nullptr;
    // The variables gitvisor-exec sets for this command (INVOCATION_ID, MAINPID, SERVICE_RESULT...).
    EnvList manager_env;
    int stdout_fd = -1;  // write ends of the output pipes; -1: /dev/null
    int stderr_fd = -1;
};

// Runs in the forked child: never returns.
[[noreturn]] void run_child(const ChildPlan& plan, int report_fd);

}  // namespace gitvisor::exec
