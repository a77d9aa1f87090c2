#pragma once
// The spec gitvisord writes for one start of a unit (docs/exec-protocol.md, "Spec"): what to run and
// how. read_spec_file() turns the JSON into a Spec; every field has systemd's default when absent, a
// field of the wrong type or with an unknown value is an error naming the field, and unknown fields are
// ignored so that a newer daemon can add some.

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "unitfile/words.h"

namespace gitvisor::exec {

// One command of an Exec*= list: path, argv and the prefixes - : + (the parser's own type).
using Command = unitfile::ExecCommand;

enum class ServiceType { Simple, Exec, Oneshot, Notify, Forking };
enum class RestartPolicy { No, OnSuccess, OnFailure, OnAbnormal, OnWatchdog, OnAbort, Always };
enum class KillMode { ControlGroup, Mixed, Process, None };
// NotifyAccess=: whose sd_notify messages count.
enum class NotifyAccess { None, Main, Exec, All };
// ProtectSystem=, ProtectHome= (systemd.exec(5)).
enum class ProtectSystem { No, Yes, Full, Strict };
enum class ProtectHome { No, Yes, ReadOnly, Tmpfs };
// ProtectProc=: the hidepid= option of the unit's /proc.
enum class ProtectProc { Default, NoAccess, Invisible, Ptraceable };
// ProcSubset=: pid leaves only the process directories in the unit's /proc.
enum class ProcSubset { All, Pid };
// RuntimeDirectoryPreserve=: yes keeps RuntimeDirectory= after the unit ends; restart keeps it across
// automatic restarts only.
enum class PreserveMode { No, Yes, Restart };

const char* to_string(ServiceType type);
const char* to_string(RestartPolicy policy);
const char* to_string(KillMode mode);
std::optional<ServiceType> service_type_from_string(std::string_view text);
std::optional<RestartPolicy> restart_policy_from_string(std::string_view text);
std::optional<KillMode> kill_mode_from_string(std::string_view text);
const char* to_string(NotifyAccess access);
const char* to_string(ProtectSystem protect);
const char* to_string(ProtectHome protect);
const char* to_string(ProtectProc protect);
const char* to_string(ProcSubset subset);
const char* to_string(PreserveMode mode);

// SuccessExitStatus= and friends: exit codes and signal numbers.
struct ExitStatusSet {
    std::vector<int> statuses;
    std::vector<int> signals;
    bool has_status(int status) const;
    bool has_signal(int signal) const;
};

struct ResourceLimit {
    int resource = 0;  // RLIMIT_*
    rlim_t soft = 0;
    rlim_t hard = 0;
};

// "NOFILE" -> RLIMIT_NOFILE; -1 for an unknown name.
int rlimit_from_name(std::string_view name);

constexpr int64_t kInfinity = -1;  // for the *_usec fields

// RuntimeDirectory=, StateDirectory=, CacheDirectory=, LogsDirectory=, ConfigurationDirectory=.
enum class DirectoryType { Runtime, State, Cache, Logs, Configuration };
constexpr size_t kDirectoryTypes = 5;

struct ExecDirectory {
    std::string base;                // "/run", "/var/lib", ... (the spec may move it, for tests)
    std::vector<std::string> names;  // relative paths under `base`
    mode_t mode = 0755;
};

// Where StandardOutput=/StandardError= go. Journal is the unit's log (gitvisor-exec's pipe); Inherit
// (StandardError= only) is wherever standard output goes.
struct OutputTarget {
    enum class Kind { Journal, Null, Inherit, File, Append, Truncate };
    Kind kind = Kind::Journal;
    std::string path;  // File, Append, Truncate
    bool operator==(const OutputTarget&) const = default;
};

struct Spec {
    std::string unit;
    std::string invocation;  // empty: gitvisor-exec makes one
    ServiceType type = ServiceType::Simple;

    std::vector<Command> exec_condition;
    std::vector<Command> exec_start_pre;
    std::vector<Command> exec_start;
    std::vector<Command> exec_start_post;
    std::vector<Command> exec_reload;
    std::vector<Command> exec_stop;
    std::vector<Command> exec_stop_post;
    std::vector<Command> health_check_exec;  // HealthCheckExec=: run on the daemon's "health" request

    std::vector<std::pair<std::string, std::string>> environment;  // in the file's order
    std::vector<std::string> environment_files;                    // "-" prefix: optional
    std::vector<std::string> unset_environment;                    // NAME or NAME=VALUE

    std::string user;
    std::string group;
    std::vector<std::string> supplementary_groups;
    std::string working_directory;  // "" = "/", "~" = the user's home, "-" prefix: may be missing
    mode_t umask = 022;
    std::optional<int> nice;
    std::optional<int> oom_score_adjust;
    std::vector<ResourceLimit> rlimits;
    bool no_new_privileges = false;
    bool private_tmp = false;
    ProtectSystem protect_system = ProtectSystem::No;
    ProtectHome protect_home = ProtectHome::No;
    std::vector<std::string> read_only_paths;  // as written: "-" prefix = may be missing, "+" ignored
    std::vector<std::string> read_write_paths;
    std::vector<std::string> inaccessible_paths;
    // PrivateDevices= and the Protect*= settings that hide or freeze kernel interfaces (protect.h), and
    // the capabilities they take away (capabilities.h).
    bool private_devices = false;
    bool protect_kernel_tunables = false;
    bool protect_kernel_modules = false;
    bool protect_kernel_logs = false;
    bool protect_control_groups = false;
    bool protect_hostname = false;  // a UTS namespace of the unit's own
    bool protect_clock = false;
    ProtectProc protect_proc = ProtectProc::Default;
    ProcSubset proc_subset = ProcSubset::All;
    // The seccomp settings (seccomp.h). The lists hold each assignment as written ("~@mount",
    // "AF_UNIX AF_INET"), merged by gitvisor-exec as systemd merges them; empty: not set.
    std::vector<std::string> system_call_filter;
    int system_call_error_number = 0;  // 0: a filtered call kills the process
    std::vector<std::string> system_call_architectures;
    bool lock_personality = false;
    bool memory_deny_write_execute = false;
    bool restrict_realtime = false;
    bool restrict_suid_sgid = false;
    std::vector<std::string> restrict_namespaces;
    std::vector<std::string> restrict_address_families;
    // The directories, indexed by DirectoryType, and RuntimeDirectoryPreserve=.
    std::array<ExecDirectory, kDirectoryTypes> directories = {{{"/run", {}, 0755},
                                                               {"/var/lib", {}, 0755},
                                                               {"/var/cache", {}, 0755},
                                                               {"/var/log", {}, 0755},
                                                               {"/etc", {}, 0755}}};
    PreserveMode runtime_directory_preserve = PreserveMode::No;
    // CapabilityBoundingSet= (unset: left as it is) and AmbientCapabilities=, as bit masks (1 << CAP_*).
    std::optional<uint64_t> capability_bounding_set;
    uint64_t ambient_capabilities = 0;
    OutputTarget standard_output;                                  // Journal
    OutputTarget standard_error{OutputTarget::Kind::Inherit, {}};  // as standard output

    RestartPolicy restart = RestartPolicy::No;
    int64_t restart_usec = 100'000;  // kInfinity: the restart never comes (systemd's RestartSec=infinity)
    // RestartSteps=, RestartMaxDelaySec= (kInfinity: no back-off): see restart_delay_usec().
    int64_t restart_steps = 0;
    int64_t restart_max_delay_usec = kInfinity;
    ExitStatusSet success_exit_status;
    ExitStatusSet restart_prevent_exit_status;
    ExitStatusSet restart_force_exit_status;
    int64_t start_limit_interval_usec = 10'000'000;
    int64_t start_limit_burst = 5;
    bool remain_after_exit = false;
    int64_t timeout_start_usec = 90'000'000;  // kInfinity (or 0) = none
    int64_t runtime_max_usec = kInfinity;     // RuntimeMaxSec=: longest time active; kInfinity (or 0) = none
    int64_t timeout_stop_usec = 90'000'000;

    KillMode kill_mode = KillMode::ControlGroup;
    int kill_signal = 15;       // SIGTERM
    int final_kill_signal = 9;  // SIGKILL
    int restart_kill_signal = 0;  // RestartKillSignal=: a restart's first signal; 0: kill_signal
    bool send_sigkill = true;
    bool send_sighup = false;
    int64_t watchdog_usec = 0;  // WatchdogSec=; 0: none
    int watchdog_signal = 6;    // SIGABRT

    std::vector<std::string> cgroup_procs;
    std::string log_file;                      // empty: output is read and dropped
    int64_t log_max_bytes = 16 * 1024 * 1024;  // rotate past this size; 0 = never
    int64_t log_keep = 4;                      // rotated files kept: <log_file>.1 (newest) ...
    std::string log_marker;                    // written once as a `marker` line when the log opens
    std::string pid_file;       // PIDFile=: where a Type=forking service writes its main pid
    std::string notify_socket;  // the datagram socket $NOTIFY_SOCKET names; "" = none
    NotifyAccess notify_access = NotifyAccess::None;  // Type=notify without NotifyAccess=: main
    std::string status_file;
    std::string control_socket;
};

// "journal", "null", "inherit", "file:PATH", "append:PATH", "truncate:PATH" (PATH absolute).
std::optional<OutputTarget> output_target_from_string(std::string_view text);

// Parses the spec text. Errors: "field 'restart': unknown value 'sometimes'", "line 1, column 3: ...".
Result<Spec> parse_spec(std::string_view json);
// Reads and parses PATH. Errors start with the reason: "No such file or directory", "field ...".
Result<Spec> read_spec_file(const std::string& path);

}  // namespace gitvisor::exec
