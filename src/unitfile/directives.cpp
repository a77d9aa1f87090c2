#include "unitfile/directives.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace gitvisor::unitfile {
namespace {

using enum ValueType;
constexpr auto kList = ListMode::Append;
constexpr auto kDeps = ListMode::AppendNoReset;
constexpr int64_t kUintMax = 4294967295;

constexpr std::string_view kUnit = "systemd.unit(5)";
constexpr std::string_view kService = "systemd.service(5)";
constexpr std::string_view kExec = "systemd.exec(5)";
constexpr std::string_view kKill = "systemd.kill(5)";
constexpr std::string_view kResource = "systemd.resource-control(5)";
constexpr std::string_view kGitvisor = "gitvisor.unit(5)";

Directive dep(std::string_view key, std::string_view summary) {
    return {"Unit", key, UnitNames, kDeps, Support::Supported, "", summary, kUnit, {}, {}, 0, 0, {}};
}

Directive condition(std::string_view key, ValueType type, std::string_view summary) {
    return {"Unit", key, type, kList, Support::Supported, "", summary, kUnit, {}, {}, 0, 0, {}};
}

Directive exec(std::string_view key, std::string_view summary) {
    return {"Service", key, Exec, kList, Support::Supported, "", summary, kService, {}, {}, 0, 0, {}};
}

// A boolean sandboxing setting of systemd.exec(5), off by default.
Directive sandbox(std::string_view key, std::string_view summary) {
    return {"Service", key, Bool, ListMode::Single, Support::Supported, "no", summary, kExec, {}, {}, 0, 0, {}};
}

Directive rlimit(std::string_view key) {
    return {"Service", key, RLimit, ListMode::Single, Support::Supported, "", "resource limit (setrlimit)", kExec,
            {}, {}, 0, 0, {}};
}

std::vector<Directive> make_table() {
    const auto S = Support::Supported;
    const auto I = Support::Inert;
    const auto one = ListMode::Single;
    std::vector<Directive> t = {
        // [Unit]
        {"Unit", "Description", Text, one, S, "", "human-readable name shown by status", kUnit, {}, {}, 0, 0, {}},
        {"Unit", "Documentation", Words, kList, I, "", "URIs of documentation", kUnit, {}, {}, 0, 0, {}},
        dep("Requires", "start these too; stop or restart with them"),
        dep("Wants", "start these too; their failure is ignored"),
        dep("Requisite", "these must already be active"),
        dep("BindsTo", "like Requires=, and stop whenever they stop"),
        dep("PartOf", "stops and restarts of these propagate to this unit"),
        dep("Conflicts", "starting one stops the other"),
        dep("Before", "ordering: start before these"),
        dep("After", "ordering: start after these"),
        dep("OnFailure", "units started when this one fails"),
        {"Unit", "DefaultDependencies", Bool, one, I, "yes", "implicit target dependencies (none under gitvisor)",
         kUnit, {}, {}, 0, 0, {}},
        {"Unit", "StartLimitIntervalSec", Timespan, one, S, "10s", "window of the start rate limit", kUnit,
         {}, {}, 0, 0, {}},
        {"Unit", "FailureAction", Enum, one, S, "none",
         "exit, exit-force: when the unit fails for good, gitvisord stops every unit and exits", kUnit,
         {"none", "exit", "exit-force"},
         {"reboot", "reboot-force", "reboot-immediate", "poweroff", "poweroff-force", "poweroff-immediate",
          "soft-reboot", "soft-reboot-force", "kexec", "kexec-force", "halt", "halt-force", "halt-immediate"},
         0, 0, {}},
        {"Unit", "FailureActionExitStatus", Integer, one, S, "", "gitvisord's exit status for FailureAction=exit",
         kUnit, {}, {}, 0, 255, {}},
        {"Unit", "StartLimitBurst", Integer, one, S, "5", "starts allowed in the window", kUnit, {}, {}, 0,
         kUintMax, {}},
        condition("ConditionHost", Condition, "run only on hosts whose name or machine ID matches (globs)"),
        condition("ConditionPathExists", PathCondition, "run only if the path exists"),
        condition("ConditionPathExistsGlob", PathCondition, "run only if a path matches the glob"),
        condition("ConditionPathIsDirectory", PathCondition, "run only if the path is a directory"),
        condition("ConditionPathIsSymbolicLink", PathCondition, "run only if the path is a symlink"),
        condition("ConditionDirectoryNotEmpty", PathCondition, "run only if the directory has entries"),
        condition("ConditionFileNotEmpty", PathCondition, "run only if the file is not empty"),
        condition("ConditionFileIsExecutable", PathCondition, "run only if the file is executable"),
        condition("ConditionPathIsMountPoint", PathCondition, "run only if the path is a mount point"),
        condition("ConditionPathIsReadWrite", PathCondition, "run only if the path's file system is writable"),
        condition("ConditionUser", Condition, "run only if gitvisord runs as this user (name, uid, @system)"),
        condition("ConditionGroup", Condition, "run only if gitvisord is in this group (name or gid)"),
        condition("ConditionEnvironment", Condition, "run only if gitvisord's environment has NAME or NAME=value"),
        condition("ConditionKernelCommandLine", Condition, "run only if the kernel command line has the word"),
        condition("ConditionArchitecture", Condition, "run only on this architecture (x86-64, arm64, native...)"),
        condition("ConditionCapability", Condition, "run only if gitvisord's bounding set has the capability"),
        condition("ConditionCPUs", Condition, "run only if the usable CPUs compare so (>=2)"),
        condition("ConditionMemory", Condition, "run only if physical memory compares so (>=1G)"),
        condition("AssertPathExists", PathCondition, "fail the start unless the path exists"),
        condition("AssertPathExistsGlob", PathCondition, "fail the start unless a path matches the glob"),
        condition("AssertPathIsDirectory", PathCondition, "fail the start unless the path is a directory"),
        condition("AssertPathIsSymbolicLink", PathCondition, "fail the start unless the path is a symlink"),
        condition("AssertPathIsMountPoint", PathCondition, "fail the start unless the path is a mount point"),
        condition("AssertPathIsReadWrite", PathCondition, "fail the start unless the file system is writable"),
        condition("AssertDirectoryNotEmpty", PathCondition, "fail the start unless the directory has entries"),
        condition("AssertFileNotEmpty", PathCondition, "fail the start unless the file is not empty"),
        condition("AssertFileIsExecutable", PathCondition, "fail the start unless the file is executable"),
        condition("AssertUser", Condition, "fail the start unless gitvisord runs as this user"),
        condition("AssertGroup", Condition, "fail the start unless gitvisord is in this group"),
        condition("AssertEnvironment", Condition, "fail the start unless gitvisord's environment has it"),
        condition("AssertKernelCommandLine", Condition, "fail the start unless the kernel command line has it"),
        condition("AssertArchitecture", Condition, "fail the start unless on this architecture"),
        condition("AssertCapability", Condition, "fail the start unless the bounding set has the capability"),
        condition("AssertCPUs", Condition, "fail the start unless the usable CPUs compare so"),
        condition("AssertMemory", Condition, "fail the start unless physical memory compares so"),

        // [Service]
        {"Service", "Type", Enum, one, S, "", "readiness protocol; simple if ExecStart= is set, else oneshot",
         kService, {"simple", "exec", "forking", "oneshot", "notify"}, {"dbus", "idle"}, 0, 0, {}},
        {"Service", "RemainAfterExit", Bool, one, S, "no", "stay active after the main process exits", kService,
         {}, {}, 0, 0, {}},
        {"Service", "GuessMainPID", Bool, one, I, "yes", "guess the main pid of forking services", kService, {},
         {}, 0, 0, {}},
        {"Service", "PIDFile", Path, one, S, "", "pid file of a forking service", kService, {}, {}, 0, 0, {}},
        exec("ExecCondition", "commands that decide whether to start (exit 1-254 skips)"),
        exec("ExecStartPre", "commands run before ExecStart="),
        exec("ExecStart", "the main command"),
        exec("ExecStartPost", "commands run after the service has started"),
        exec("ExecReload", "commands that reload the service"),
        exec("ExecStop", "commands that stop the service"),
        exec("ExecStopPost", "commands run after the service has stopped"),
        {"Service", "Restart", Enum, one, S, "no", "when to restart after the process exits", kService,
         {"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"}, {}, 0, 0, {}},
        {"Service", "RestartSec", Timespan, one, S, "100ms", "delay before a restart", kService, {}, {}, 0, 0,
         {}},
        {"Service", "RestartSteps", Integer, one, S, "0", "steps of the exponential restart back-off", kService,
         {}, {}, 0, kUintMax, {}},
        {"Service", "RestartMaxDelaySec", Timespan, one, S, "infinity", "longest restart delay of the back-off",
         kService, {}, {}, 0, 0, {}},
        {"Service", "TimeoutStartSec", Timeout, one, S, "90s", "time allowed to become ready", kService, {}, {},
         0, 0, {}},
        {"Service", "TimeoutStopSec", Timeout, one, S, "10s", "time between the kill signal and SIGKILL",
         kService, {}, {}, 0, 0, {}},
        {"Service", "TimeoutSec", Timeout, one, S, "", "sets TimeoutStartSec= and TimeoutStopSec=", kService,
         {}, {}, 0, 0, {"TimeoutStartSec", "TimeoutStopSec"}},
        {"Service", "RuntimeMaxSec", Timeout, one, S, "infinity", "longest time the service may run", kService,
         {}, {}, 0, 0, {}},
        {"Service", "SuccessExitStatus", ExitStatus, kList, S, "", "extra exit codes and signals counted as success",
         kService, {}, {}, 0, 0, {}},
        {"Service", "RestartPreventExitStatus", ExitStatus, kList, S, "", "exit statuses that never restart",
         kService, {}, {}, 0, 0, {}},
        {"Service", "RestartForceExitStatus", ExitStatus, kList, S, "", "exit statuses that always restart",
         kService, {}, {}, 0, 0, {}},
        {"Service", "NotifyAccess", Enum, one, S, "none", "who may send sd_notify messages", kService,
         {"none", "main", "exec", "all"}, {}, 0, 0, {}},
        {"Service", "WatchdogSec", Timespan, one, S, "0", "the service sends WATCHDOG=1 at least this often",
         kService, {}, {}, 0, 0, {}},
        // systemd.kill
        {"Service", "KillMode", Enum, one, S, "control-group", "which processes a stop kills", kKill,
         {"control-group", "mixed", "process", "none"}, {}, 0, 0, {}},
        {"Service", "KillSignal", Signal, one, S, "SIGTERM", "first signal of a stop", kKill, {}, {}, 0, 0, {}},
        {"Service", "RestartKillSignal", Signal, one, S, "", "signal of a restart's stop (default KillSignal=)",
         kKill, {}, {}, 0, 0, {}},
        {"Service", "FinalKillSignal", Signal, one, S, "SIGKILL", "signal sent after TimeoutStopSec=", kKill, {},
         {}, 0, 0, {}},
        {"Service", "SendSIGKILL", Bool, one, S, "yes", "send FinalKillSignal= to what is left", kKill, {}, {}, 0,
         0, {}},
        {"Service", "SendSIGHUP", Bool, one, S, "no", "send SIGHUP right after KillSignal=", kKill, {}, {}, 0, 0,
         {}},
        {"Service", "WatchdogSignal", Signal, one, S, "SIGABRT", "signal sent when WatchdogSec= passes unpinged",
         kKill, {}, {}, 0, 0, {}},
        // systemd.exec
        {"Service", "User", UserName, one, S, "root", "user the processes run as", kExec, {}, {}, 0, 0, {}},
        {"Service", "Group", GroupName, one, S, "", "group the processes run as (default: the user's)", kExec,
         {}, {}, 0, 0, {}},
        {"Service", "SupplementaryGroups", Words, kList, S, "", "additional groups", kExec, {}, {}, 0, 0, {}},
        {"Service", "WorkingDirectory", WorkingDir, one, S, "", "working directory ('~' = the user's home)",
         kExec, {}, {}, 0, 0, {}},
        {"Service", "Environment", ValueType::Environment, kList, S, "", "environment variables", kExec, {}, {},
         0, 0, {}},
        {"Service", "EnvironmentFile", EnvFiles, kList, S, "", "files of environment variables ('-' = optional)",
         kExec, {}, {}, 0, 0, {}},
        {"Service", "PassEnvironment", Words, kList, S, "", "variables passed from gitvisord's environment",
         kExec, {}, {}, 0, 0, {}},
        {"Service", "UnsetEnvironment", Words, kList, S, "", "variables removed from the environment", kExec, {},
         {}, 0, 0, {}},
        {"Service", "UMask", ValueType::Mode, one, S, "0022", "file mode creation mask", kExec, {}, {}, 0, 0, {}},
        {"Service", "Nice", Integer, one, S, "", "scheduling priority", kExec, {}, {}, -20, 19, {}},
        {"Service", "OOMScoreAdjust", Integer, one, S, "", "OOM killer adjustment", kExec, {}, {}, -1000, 1000,
         {}},
        rlimit("LimitCPU"), rlimit("LimitFSIZE"), rlimit("LimitDATA"), rlimit("LimitSTACK"), rlimit("LimitCORE"),
        rlimit("LimitRSS"), rlimit("LimitNOFILE"), rlimit("LimitAS"), rlimit("LimitNPROC"),
        rlimit("LimitMEMLOCK"), rlimit("LimitLOCKS"), rlimit("LimitSIGPENDING"), rlimit("LimitMSGQUEUE"),
        rlimit("LimitNICE"), rlimit("LimitRTPRIO"), rlimit("LimitRTTIME"),
        {"Service", "NoNewPrivileges", Bool, one, S, "no", "forbid gaining privileges through execve", kExec, {},
         {}, 0, 0, {}},
        {"Service", "PrivateTmp", Bool, one, S, "no", "private /tmp and /var/tmp", kExec, {}, {}, 0, 0, {}},
        {"Service", "ProtectSystem", BoolOrEnum, one, S, "no", "read-only /usr, /boot (full: /etc; strict: all)",
         kExec, {"full", "strict"}, {}, 0, 0, {}},
        {"Service", "ProtectHome", BoolOrEnum, one, S, "no", "hide or protect /home, /root, /run/user", kExec,
         {"read-only", "tmpfs"}, {}, 0, 0, {}},
        {"Service", "ReadOnlyPaths", Paths, kList, S, "", "paths made read-only", kExec, {}, {}, 0, 0, {}},
        {"Service", "ReadWritePaths", Paths, kList, S, "", "paths kept writable", kExec, {}, {}, 0, 0, {}},
        {"Service", "InaccessiblePaths", Paths, kList, S, "", "paths made inaccessible", kExec, {}, {}, 0, 0, {}},
        {"Service", "ReadOnlyDirectories", Paths, kList, S, "", "old name of ReadOnlyPaths=", kExec, {}, {}, 0, 0,
         {"ReadOnlyPaths"}},
        {"Service", "ReadWriteDirectories", Paths, kList, S, "", "old name of ReadWritePaths=", kExec, {}, {}, 0, 0,
         {"ReadWritePaths"}},
        {"Service", "InaccessibleDirectories", Paths, kList, S, "", "old name of InaccessiblePaths=", kExec, {}, {},
         0, 0, {"InaccessiblePaths"}},
        sandbox("PrivateDevices", "a /dev of pseudo devices only; no CAP_MKNOD, CAP_SYS_RAWIO"),
        sandbox("ProtectKernelTunables", "read-only /proc/sys, /sys and other kernel variables"),
        sandbox("ProtectKernelModules", "no module loading: no CAP_SYS_MODULE, no /usr/lib/modules"),
        sandbox("ProtectKernelLogs", "no kernel log: no CAP_SYSLOG, no /proc/kmsg, /dev/kmsg"),
        sandbox("ProtectControlGroups", "read-only /sys/fs/cgroup"),
        sandbox("ProtectHostname", "a host name of its own (UTS namespace)"),
        sandbox("ProtectClock", "no clock changes: no CAP_SYS_TIME, CAP_WAKE_ALARM"),
        {"Service", "ProtectProc", Enum, one, S, "default", "hidepid= of the unit's /proc", kExec,
         {"noaccess", "invisible", "ptraceable", "default"}, {}, 0, 0, {}},
        {"Service", "ProcSubset", Enum, one, S, "all", "pid: only the processes in the unit's /proc", kExec,
         {"all", "pid"}, {}, 0, 0, {}},
        {"Service", "SystemCallFilter", SyscallList, kList, S, "",
         "allowed system calls ('~': denied ones); the first assignment decides", kExec, {}, {}, 0, 0, {}},
        {"Service", "SystemCallErrorNumber", ErrnoAction, one, S, "kill",
         "what a filtered system call returns (kill: the process dies)", kExec, {}, {}, 0, 0, {}},
        {"Service", "SystemCallArchitectures", Architectures, kList, S, "",
         "architectures whose system calls are allowed", kExec, {}, {}, 0, 0, {}},
        sandbox("LockPersonality", "no change of the execution domain (personality)"),
        sandbox("MemoryDenyWriteExecute", "no memory both writable and executable"),
        sandbox("RestrictRealtime", "no realtime scheduling"),
        sandbox("RestrictSUIDSGID", "no set-user-ID or set-group-ID files"),
        {"Service", "RestrictNamespaces", Namespaces, kList, S, "no", "which namespaces may be made or joined",
         kExec, {}, {}, 0, 0, {}},
        {"Service", "RestrictAddressFamilies", AddressFamilies, kList, S, "",
         "socket address families allowed ('~': denied ones)", kExec, {}, {}, 0, 0, {}},
        {"Service", "CapabilityBoundingSet", Capabilities, kList, S, "", "capability bounding set", kExec, {}, {},
         0, 0, {}},
        {"Service", "AmbientCapabilities", Capabilities, kList, S, "", "ambient capabilities", kExec, {}, {}, 0, 0,
         {}},
        {"Service", "StandardInput", Enum, one, S, "null", "standard input", kExec, {"null"},
         {"tty", "tty-force", "tty-fail", "data", "socket"}, 0, 0, {}},
        {"Service", "StandardOutput", StdOutput, one, S, "journal", "standard output (journal = gitvisor logs)",
         kExec, {}, {}, 0, 0, {}},
        {"Service", "StandardError", StdOutput, one, S, "inherit", "standard error (inherit = as output)", kExec,
         {}, {}, 0, 0, {}},
        {"Service", "SyslogIdentifier", Text, one, I, "", "name in log lines (gitvisor logs by unit)", kExec, {},
         {}, 0, 0, {}},
        {"Service", "RuntimeDirectory", RelativePaths, kList, S, "", "directories made under /run", kExec, {}, {},
         0, 0, {}},
        {"Service", "StateDirectory", RelativePaths, kList, S, "", "directories made under /var/lib", kExec, {},
         {}, 0, 0, {}},
        {"Service", "CacheDirectory", RelativePaths, kList, S, "", "directories made under /var/cache", kExec, {},
         {}, 0, 0, {}},
        {"Service", "LogsDirectory", RelativePaths, kList, S, "", "directories made under /var/log", kExec, {}, {},
         0, 0, {}},
        {"Service", "ConfigurationDirectory", RelativePaths, kList, S, "", "directories made under /etc", kExec,
         {}, {}, 0, 0, {}},
        {"Service", "RuntimeDirectoryMode", ValueType::Mode, one, S, "0755", "mode of RuntimeDirectory=", kExec,
         {}, {}, 0, 0, {}},
        {"Service", "StateDirectoryMode", ValueType::Mode, one, S, "0755", "mode of StateDirectory=", kExec, {},
         {}, 0, 0, {}},
        {"Service", "CacheDirectoryMode", ValueType::Mode, one, S, "0755", "mode of CacheDirectory=", kExec, {},
         {}, 0, 0, {}},
        {"Service", "LogsDirectoryMode", ValueType::Mode, one, S, "0755", "mode of LogsDirectory=", kExec, {}, {},
         0, 0, {}},
        {"Service", "ConfigurationDirectoryMode", ValueType::Mode, one, S, "0755", "mode of ConfigurationDirectory=",
         kExec, {}, {}, 0, 0, {}},
        {"Service", "RuntimeDirectoryPreserve", BoolOrEnum, one, S, "no",
         "keep RuntimeDirectory= after a stop (restart: across restarts)", kExec, {"restart"}, {}, 0, 0, {}},
        // systemd.resource-control
        {"Service", "MemoryMax", Size, one, S, "infinity", "hard memory limit (OOM kill above it)", kResource, {},
         {}, 0, 0, {}},
        {"Service", "MemoryHigh", Size, one, S, "infinity", "memory throttling limit", kResource, {}, {}, 0, 0,
         {}},
        {"Service", "MemoryLimit", Size, one, S, "infinity", "deprecated name of MemoryMax=", kResource, {}, {}, 0,
         0, {}},
        {"Service", "CPUQuota", CpuQuota, one, S, "", "CPU time limit, percent of one CPU", kResource, {}, {}, 0, 0,
         {}},
        {"Service", "CPUWeight", Integer, one, S, "", "relative CPU weight (1-10000, default 100)", kResource, {},
         {}, 1, 10000, {}},
        {"Service", "TasksMax", CountLimit, one, S, "", "limit on processes and threads", kResource, {}, {}, 0, 0,
         {}},

        // [Install]: read by `systemctl enable`, not by a running manager.
        {"Install", "WantedBy", UnitNames, kDeps, I, "", "enable-time dependency (no effect)", kUnit, {}, {}, 0, 0,
         {}},
        {"Install", "RequiredBy", UnitNames, kDeps, I, "", "enable-time dependency (no effect)", kUnit, {}, {}, 0,
         0, {}},
        {"Install", "Alias", UnitNames, kList, I, "", "enable-time alias (no effect)", kUnit, {}, {}, 0, 0, {}},
        {"Install", "Also", UnitNames, kList, I, "", "units enabled together (no effect)", kUnit, {}, {}, 0, 0, {}},
        {"Install", "DefaultInstance", Text, one, I, "", "instance enabled by default (no effect)", kUnit, {}, {},
         0, 0, {}},

        // [X-Gitvisor]: gitvisor's own settings; systemd ignores the section.
        {"X-Gitvisor", "LogMaxBytes", Size, one, S, "16M", "size at which the unit's log rotates", kGitvisor, {},
         {}, 0, 0, {}},
        {"X-Gitvisor", "LogMaxFiles", Integer, one, S, "4", "log files kept", kGitvisor, {}, {}, 1, 1000, {}},
        {"X-Gitvisor", "Critical", Bool, one, S, "no",
         "when the unit fails for good, gitvisord stops every unit and exits (status 3): a container's entrypoint",
         kGitvisor, {}, {}, 0, 0, {}},
        {"X-Gitvisor", "HealthCheckURL", Url, one, S, "", "health check: HTTP GET, a 2xx answer is healthy",
         kGitvisor, {}, {}, 0, 0, {}},
        {"X-Gitvisor", "HealthCheckTCP", HostPort, one, S, "", "health check: a TCP connection to host:port opens",
         kGitvisor, {}, {}, 0, 0, {}},
        {"X-Gitvisor", "HealthCheckExec", Exec, one, S, "",
         "health check: a command run in the unit's namespace, cgroup and user; exit 0 is healthy", kGitvisor, {},
         {}, 0, 0, {}},
        {"X-Gitvisor", "HealthCheckInterval", Timespan, one, S, "30s", "time between health checks", kGitvisor, {},
         {}, 0, 0, {}},
        {"X-Gitvisor", "HealthCheckTimeout", Timespan, one, S, "5s", "time one health check may take", kGitvisor,
         {}, {}, 0, 0, {}},
        {"X-Gitvisor", "HealthCheckRetries", Integer, one, S, "3",
         "consecutive failed checks that make the unit unhealthy (it is then restarted)", kGitvisor, {}, {}, 1,
         1000, {}},
        {"X-Gitvisor", "HealthCheckStartPeriod", Timespan, one, S, "0",
         "grace after a start: failed checks do not count, a passing one makes the unit healthy", kGitvisor, {},
         {}, 0, 0, {}},
        {"X-Gitvisor", "DrainPorts", Ports, kList, S, "",
         "local TCP ports whose established connections a stop waits for", kGitvisor, {}, {}, 0, 0, {}},
        {"X-Gitvisor", "DrainTimeoutSec", Timespan, one, S, "30s", "longest wait for DrainPorts= to empty",
         kGitvisor, {}, {}, 0, 0, {}},
    };
    return t;
}

// Directives of systemd 252 that gitvisor does not implement: deploying a unit that uses them is allowed,
// with a warning, so real units from distributions still deploy.
constexpr IgnoredDirective kIgnored[] = {
    {"Unit", "SourcePath", kUnit}, {"Unit", "Upholds", kUnit}, {"Unit", "OnSuccess", kUnit},
    {"Unit", "PropagatesReloadTo", kUnit}, {"Unit", "ReloadPropagatedFrom", kUnit},
    {"Unit", "PropagatesStopTo", kUnit}, {"Unit", "StopPropagatedFrom", kUnit},
    {"Unit", "JoinsNamespaceOf", kUnit}, {"Unit", "RequiresMountsFor", kUnit},
    {"Unit", "OnFailureJobMode", kUnit}, {"Unit", "OnSuccessJobMode", kUnit},
    {"Unit", "IgnoreOnIsolate", kUnit}, {"Unit", "StopWhenUnneeded", kUnit},
    {"Unit", "RefuseManualStart", kUnit}, {"Unit", "RefuseManualStop", kUnit},
    {"Unit", "AllowIsolate", kUnit}, {"Unit", "CollectMode", kUnit},
    {"Unit", "SuccessAction", kUnit},
    {"Unit", "SuccessActionExitStatus", kUnit}, {"Unit", "JobTimeoutSec", kUnit},
    {"Unit", "JobRunningTimeoutSec", kUnit}, {"Unit", "JobTimeoutAction", kUnit},
    {"Unit", "JobTimeoutRebootArgument", kUnit}, {"Unit", "StartLimitAction", kUnit},
    {"Unit", "RebootArgument", kUnit}, {"Unit", "StartLimitInterval", kUnit},
    {"Unit", "ConditionFirmware", kUnit}, {"Unit", "ConditionVirtualization", kUnit},
    {"Unit", "ConditionKernelVersion", kUnit}, {"Unit", "ConditionCredential", kUnit},
    {"Unit", "ConditionSecurity", kUnit}, {"Unit", "ConditionACPower", kUnit},
    {"Unit", "ConditionNeedsUpdate", kUnit}, {"Unit", "ConditionFirstBoot", kUnit},
    {"Unit", "ConditionPathIsEncrypted", kUnit}, {"Unit", "ConditionControlGroupController", kUnit},
    {"Unit", "ConditionCPUFeature", kUnit}, {"Unit", "ConditionOSRelease", kUnit},
    {"Unit", "ConditionMemoryPressure", kUnit}, {"Unit", "ConditionCPUPressure", kUnit},
    {"Unit", "ConditionIOPressure", kUnit}, {"Unit", "AssertVirtualization", kUnit}, {"Unit", "AssertHost", kUnit},
    {"Unit", "AssertKernelVersion", kUnit}, {"Unit", "AssertSecurity", kUnit}, {"Unit", "AssertACPower", kUnit},
    {"Unit", "AssertNeedsUpdate", kUnit}, {"Unit", "AssertFirstBoot", kUnit},
    {"Service", "BusName", kService}, {"Service", "Sockets", kService},
    {"Service", "FileDescriptorStoreMax", kService}, {"Service", "USBFunctionDescriptors", kService},
    {"Service", "USBFunctionStrings", kService}, {"Service", "OOMPolicy", kService},
    {"Service", "TimeoutAbortSec", kService}, {"Service", "TimeoutStartFailureMode", kService},
    {"Service", "TimeoutStopFailureMode", kService}, {"Service", "RuntimeRandomizedExtraSec", kService},
    {"Service", "ExitType", kService}, {"Service", "NonBlocking", kService}, {"Service", "PermissionsStartOnly", kService},
    {"Service", "RootDirectoryStartOnly", kService}, {"Service", "SysVStartPriority", kService},
    {"Service", "ExecPaths", kExec}, {"Service", "NoExecPaths", kExec}, {"Service", "ExecSearchPath", kExec},
    {"Service", "RootDirectory", kExec}, {"Service", "RootImage", kExec}, {"Service", "RootImageOptions", kExec},
    {"Service", "RootHash", kExec}, {"Service", "RootHashSignature", kExec}, {"Service", "RootVerity", kExec},
    {"Service", "MountAPIVFS", kExec},
    {"Service", "BindPaths", kExec}, {"Service", "BindReadOnlyPaths", kExec}, {"Service", "MountImages", kExec},
    {"Service", "ExtensionImages", kExec}, {"Service", "ExtensionDirectories", kExec},
    {"Service", "DynamicUser", kExec}, {"Service", "PAMName", kExec}, {"Service", "SecureBits", kExec},
    {"Service", "KeyringMode", kExec}, {"Service", "CPUSchedulingPolicy", kExec},
    {"Service", "CPUSchedulingPriority", kExec}, {"Service", "CPUSchedulingResetOnFork", kExec},
    {"Service", "CPUAffinity", kExec}, {"Service", "NUMAPolicy", kExec}, {"Service", "NUMAMask", kExec},
    {"Service", "IOSchedulingClass", kExec}, {"Service", "IOSchedulingPriority", kExec},
    {"Service", "CoredumpFilter", kExec}, {"Service", "TimerSlackNSec", kExec}, {"Service", "Personality", kExec},
    {"Service", "IgnoreSIGPIPE", kExec}, {"Service", "TTYPath", kExec}, {"Service", "TTYReset", kExec},
    {"Service", "TTYVHangup", kExec}, {"Service", "TTYRows", kExec}, {"Service", "TTYColumns", kExec},
    {"Service", "TTYVTDisallocate", kExec}, {"Service", "StandardInputText", kExec},
    {"Service", "StandardInputData", kExec}, {"Service", "LogLevelMax", kExec}, {"Service", "LogExtraFields", kExec},
    {"Service", "LogRateLimitIntervalSec", kExec}, {"Service", "LogRateLimitBurst", kExec},
    {"Service", "LogFilterPatterns", kExec}, {"Service", "LogNamespace", kExec}, {"Service", "SyslogFacility", kExec},
    {"Service", "SyslogLevel", kExec}, {"Service", "SyslogLevelPrefix", kExec}, {"Service", "UtmpIdentifier", kExec},
    {"Service", "UtmpMode", kExec}, {"Service", "PrivateNetwork", kExec},
    {"Service", "NetworkNamespacePath", kExec}, {"Service", "PrivateIPC", kExec}, {"Service", "IPCNamespacePath", kExec},
    {"Service", "PrivateUsers", kExec}, {"Service", "RestrictFileSystems", kExec},
    {"Service", "RemoveIPC", kExec}, {"Service", "PrivateMounts", kExec}, {"Service", "MountFlags", kExec},
    {"Service", "SystemCallLog", kExec}, {"Service", "TemporaryFileSystem", kExec},
    {"Service", "LoadCredential", kExec}, {"Service", "LoadCredentialEncrypted", kExec},
    {"Service", "SetCredential", kExec}, {"Service", "SetCredentialEncrypted", kExec},
    {"Service", "ImportCredential", kExec},
    {"Service", "TimeoutCleanSec", kExec},
    {"Service", "SmackProcessLabel", kExec}, {"Service", "SELinuxContext", kExec},
    {"Service", "AppArmorProfile", kExec},
    {"Service", "CPUAccounting", kResource}, {"Service", "CPUShares", kResource},
    {"Service", "StartupCPUShares", kResource}, {"Service", "StartupCPUWeight", kResource},
    {"Service", "CPUQuotaPeriodSec", kResource}, {"Service", "AllowedCPUs", kResource},
    {"Service", "StartupAllowedCPUs", kResource}, {"Service", "AllowedMemoryNodes", kResource},
    {"Service", "StartupAllowedMemoryNodes", kResource}, {"Service", "MemoryAccounting", kResource},
    {"Service", "MemoryMin", kResource}, {"Service", "MemoryLow", kResource},
    {"Service", "MemorySwapMax", kResource}, {"Service", "MemoryZSwapMax", kResource},
    {"Service", "TasksAccounting", kResource}, {"Service", "IOAccounting", kResource},
    {"Service", "IOWeight", kResource}, {"Service", "StartupIOWeight", kResource},
    {"Service", "IODeviceWeight", kResource}, {"Service", "IOReadBandwidthMax", kResource},
    {"Service", "IOWriteBandwidthMax", kResource}, {"Service", "IOReadIOPSMax", kResource},
    {"Service", "IOWriteIOPSMax", kResource}, {"Service", "IODeviceLatencyTargetSec", kResource},
    {"Service", "BlockIOAccounting", kResource}, {"Service", "BlockIOWeight", kResource},
    {"Service", "StartupBlockIOWeight", kResource}, {"Service", "BlockIODeviceWeight", kResource},
    {"Service", "BlockIOReadBandwidth", kResource}, {"Service", "BlockIOWriteBandwidth", kResource},
    {"Service", "IPAccounting", kResource}, {"Service", "IPAddressAllow", kResource},
    {"Service", "IPAddressDeny", kResource}, {"Service", "IPIngressFilterPath", kResource},
    {"Service", "IPEgressFilterPath", kResource}, {"Service", "BPFProgram", kResource},
    {"Service", "SocketBindAllow", kResource}, {"Service", "SocketBindDeny", kResource},
    {"Service", "RestrictNetworkInterfaces", kResource}, {"Service", "DeviceAllow", kResource},
    {"Service", "DevicePolicy", kResource}, {"Service", "Slice", kResource}, {"Service", "Delegate", kResource},
    {"Service", "DisableControllers", kResource}, {"Service", "ManagedOOMSwap", kResource},
    {"Service", "ManagedOOMMemoryPressure", kResource}, {"Service", "ManagedOOMMemoryPressureLimit", kResource},
    {"Service", "ManagedOOMPreference", kResource}, {"Service", "NetClass", kResource},
};

const std::vector<Directive>& table() {
    static const std::vector<Directive> t = make_table();
    return t;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The best of `candidates` for `word`: a case-insensitive match, else the nearest within a third of its length.
std::string closest(std::string_view word, const std::vector<std::string_view>& candidates) {
    const std::string lw = lower(word);
    std::string best;
    size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
    for (std::string_view c : candidates) {
        const std::string lc = lower(c);
        if (lc == lw) return std::string(c);
        const size_t d = edit_distance(lw, lc);
        if (d < best_distance) {
            best_distance = d;
            best = std::string(c);
        }
    }
    return best;
}

}  // namespace

std::span<const Directive> all_directives() { return table(); }
std::span<const IgnoredDirective> ignored_directives() { return kIgnored; }

const Directive* find_directive(std::string_view section, std::string_view key) {
    // Looked up for every assignment of every unit: index the table by key once.
    static const auto by_key = [] {
        std::unordered_multimap<std::string_view, const Directive*> index;
        for (const Directive& d : table()) index.emplace(d.key, &d);
        return index;
    }();
    auto [first, last] = by_key.equal_range(key);
    for (auto it = first; it != last; ++it)
        if (it->second->section == section) return it->second;
    return nullptr;
}

const IgnoredDirective* find_ignored_directive(std::string_view section, std::string_view key) {
    for (const IgnoredDirective& d : kIgnored)
        if (d.section == section && d.key == key) return &d;
    return nullptr;
}

bool is_known_section(std::string_view section) {
    return section == "Unit" || section == "Service" || section == "Install" || section == "X-Gitvisor";
}

std::string suggest_key(std::string_view section, std::string_view key) {
    std::vector<std::string_view> keys;
    for (const Directive& d : table())
        if (d.section == section) keys.push_back(d.key);
    for (const IgnoredDirective& d : kIgnored)
        if (d.section == section) keys.push_back(d.key);
    return closest(key, keys);
}

std::string suggest_section(std::string_view section) {
    return closest(section, {"Unit", "Service", "Install", "X-Gitvisor"});
}

const char* value_type_name(ValueType type) {
    switch (type) {
        case Text: return "text";
        case Path: return "absolute path";
        case WorkingDir: return "absolute path or ~";
        case UserName: return "user name or uid";
        case GroupName: return "group name or gid";
        case Bool: return "boolean";
        case Enum: return "one of the listed values";
        case BoolOrEnum: return "boolean or one of the listed values";
        case Timespan: return "time span";
        case Timeout: return "time span (0 = infinity)";
        case Size: return "size (K M G T, base 1024), percentage or infinity";
        case CountLimit: return "number, percentage or infinity";
        case CpuQuota: return "percentage";
        case Integer: return "integer";
        case ValueType::Mode: return "octal mode";
        case ValueType::Signal: return "signal name or number";
        case ExitStatus: return "exit codes and signal names";
        case RLimit: return "limit or soft:hard";
        case Words: return "words";
        case ValueType::Url: return "http:// or https:// URL";
        case ValueType::HostPort: return "host:port";
        case ValueType::Ports: return "port numbers";
        case UnitNames: return "unit names";
        case Paths: return "absolute paths";
        case RelativePaths: return "relative paths";
        case EnvFiles: return "absolute path, '-' prefix for optional";
        case Capabilities: return "capability names";
        case Exec: return "command line";
        case ValueType::Environment: return "NAME=value assignments";
        case ValueType::Condition: return "condition";
        case PathCondition: return "path condition";
        case StdOutput: return "inherit, null, journal, file:PATH, append:PATH, truncate:PATH";
        case SyscallList: return "system call names and @groups, '~' prefix for a deny list";
        case ErrnoAction: return "errno name or number, or kill";
        case Architectures: return "native or architecture names";
        case AddressFamilies: return "AF_* names, '~' prefix for a deny list, or none";
        case Namespaces: return "boolean, or namespace types with an optional '~' prefix";
    }
    return "value";
}

std::string render_directives_markdown() {
    std::string out =
        "# Unit directives\n\n"
        "Generated from gitvisor's directive table (`src/unitfile/directives.cpp`); a test keeps this page and\n"
        "the table equal. Regenerate with `gitvisor verify --list-directives > docs/units.md`.\n\n"
        "- **supported**: gitvisor does what the referenced systemd page documents; an invalid value is an error\n"
        "  that rejects the commit (systemd would ignore the line with a warning).\n"
        "- **accepted, no effect**: validated, but has no effect under gitvisor (no warning).\n"
        "- **ignored**: known to systemd 252 but not implemented: a warning `not supported by gitvisor, ignoring`.\n"
        "- **rejected** values are errors; values listed under *warns* are valid for systemd but not implemented.\n"
        "- Any other key is an unknown directive (a warning); keys and sections starting with `X-` are skipped\n"
        "  silently, except `[X-Gitvisor]`, which holds gitvisor's own settings.\n\n"
        "| Section | Directive | Status | Value | Default | Lists | Reference |\n"
        "| --- | --- | --- | --- | --- | --- | --- |\n";
    for (const Directive& d : table()) {
        std::string value = value_type_name(d.type);
        if (!d.values.empty()) {
            value += ": ";
            for (size_t i = 0; i < d.values.size(); ++i) value += (i ? ", `" : "`") + std::string(d.values[i]) + "`";
        }
        if (!d.unsupported_values.empty()) {
            value += "; warns: ";
            for (size_t i = 0; i < d.unsupported_values.size(); ++i)
                value += (i ? ", `" : "`") + std::string(d.unsupported_values[i]) + "`";
        }
        if (d.type == ValueType::Integer) value += " " + std::to_string(d.min) + "…" + std::to_string(d.max);
        const char* lists = d.list == ListMode::Single      ? "last wins"
                            : d.list == ListMode::Append    ? "appends; empty resets"
                                                            : "appends; cannot be reset";
        const std::string status = d.support == Support::Supported ? "supported" : "accepted, no effect";
        out += "| " + std::string(d.section) + " | `" + std::string(d.key) + "=` | " + status + " | " + value +
               " | " + (d.default_value.empty() ? "—" : "`" + std::string(d.default_value) + "`") + " | " + lists +
               " | " + std::string(d.reference) + " |\n";
    }
    out += "\n## Known to systemd, ignored by gitvisor\n\n| Section | Directive | Reference |\n| --- | --- | --- |\n";
    for (const IgnoredDirective& d : kIgnored)
        out += "| " + std::string(d.section) + " | `" + std::string(d.key) + "=` | " + std::string(d.reference) +
               " |\n";
    return out;
}

}  // namespace gitvisor::unitfile
