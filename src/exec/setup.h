#pragma once
// The set-up of one command, in the child forked for it (DESIGN §4): signals, session, stdio
// (StandardOutput=, StandardError=), umask, nice, OOM score, rlimits, user and groups with the capability
// sets, environment, working directory, no-new-privileges, the seccomp filter, then execve. gitvisor-exec is
// single-threaded, so the child may allocate, read files and look up users.
//
// A step that fails is reported to the parent as a SetupReport through a close-on-exec pipe (so the
// parent also learns that execve succeeded: the pipe closes without a report), and the child exits with
// systemd's exit code for that step (203 for EXEC, 200 for CHDIR, ...).

#include <cstdint>
#include <string>

#include "exec/environment.h"
#include "exec/seccomp.h"
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
    Cgroup,            // joining the unit's cgroup (gitvisor-exec itself, at start-up)
    Namespace,         // PrivateTmp= mounts (gitvisor-exec itself, at start-up)
    Fork,              // fork() or pipe() failed in gitvisor-exec
    Capabilities,      // CapabilityBoundingSet=, AmbientCapabilities=
    RuntimeDirectory,  // RuntimeDirectory= and the others (gitvisor-exec itself, before each run)
    StateDirectory,
    CacheDirectory,
    LogsDirectory,
    ConfigurationDirectory,
    Seccomp,  // SystemCallFilter= and the other seccomp settings
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
    // Write ends of the output pipes; -1: StandardOutput=/StandardError= say (null, a file, or, for
    // standard error, wherever standard output goes).
    int stdout_fd = -1;
    int stderr_fd = -1;
    // The mount namespace without ProtectSystem= and friends, for commands with the '+' prefix; -1: none.
    int unprotected_mount_namespace = -1;
    // The UTS namespace gitvisor-exec started in, for '+' commands under ProtectHostname=; -1: none.
    int host_uts_namespace = -1;
    // The seccomp filter, loaded just before execve (not for '+' commands); nullptr: none. The child
    // writes its report descriptor into its own copy.
    SeccompProgram* seccomp = nullptr;
};

// The uid and gid the unit's commands run as (User=, Group=; gitvisor-exec's own without them). Returns
// the failing step (USER, GROUP) with *error set, or None.
SetupStep lookup_ids(const Spec& spec, uid_t* uid, gid_t* gid, int* error);

// Runs in the forked child: never returns.
[[noreturn]] void run_child(const ChildPlan& plan, int report_fd);

}  // namespace gitvisor::exec
