#include "daemon/supervise/spec_builder.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <csignal>
#include <cstdlib>
#include <sstream>
#include <tuple>

#include "unitfile/sandbox_names.h"
#include "unitfile/setting_parser.h"
#include "unitfile/unit_loader.h"

namespace gitvisor::daemon {
namespace {

using namespace gitvisor::unitfile;
using Poco::JSON::Array;
using Poco::JSON::Object;

Array::Ptr strings(const std::vector<std::string>& list) {
    Array::Ptr a = new Array;
    for (const std::string& s : list) a->add(s);
    return a;
}

Array::Ptr commands(const Unit& unit, const char* key, const char* section = "Service") {
    Array::Ptr a = new Array;
    if (const auto* list = unit.get<std::vector<ExecCommand>>(section, key)) {
        for (const ExecCommand& c : *list) {
            Object::Ptr o = new Object;
            o->set("path", c.path);
            o->set("argv", strings(c.argv));
            o->set("ignore_failure", c.ignore_failure);
            o->set("no_env_expand", c.no_env_expand);
            o->set("full_privileges", c.full_privileges);
            // '!': only User=, Group= and SupplementaryGroups= are not applied; the rest of the sandbox is.
            // '!!' is for systems without ambient capabilities, which every kernel gitvisor runs on has:
            // the command runs as if it had no prefix (systemd.service(5)).
            o->set("no_setuid", c.no_setuid);
            a->add(o);
        }
    }
    return a;
}

Object::Ptr exit_statuses(const Unit& unit, const char* key) {
    Object::Ptr o = new Object;
    const ExitStatusSet set = value_or_default(unit, "Service", key, ExitStatusSet{});
    Array::Ptr statuses = new Array, signals = new Array;
    for (int s : set.statuses) statuses->add(s);
    for (int s : set.signals) signals->add(s);
    o->set("statuses", statuses);
    o->set("signals", signals);
    return o;
}

int64_t usec(const Unit& unit, const char* key, uint64_t fallback) {
    const uint64_t v = value_or_default(unit, "Service", key, Duration{fallback}).usec;
    return v == kInfinity ? -1 : static_cast<int64_t>(v);
}

std::optional<uint64_t> bytes_of(const Limit* limit, uint64_t whole) {
    if (!limit || limit->kind == Limit::Kind::Infinity) return std::nullopt;
    if (limit->kind == Limit::Kind::Percent) return whole / 10000 * limit->value;
    return limit->value;
}

}  // namespace

CgroupLimits cgroup_limits_of(const Unit& unit, uint64_t physical_memory, uint64_t pid_max) {
    CgroupLimits limits;
    const Limit* max = unit.get<Limit>("Service", "MemoryMax");
    limits.memory_max = bytes_of(max ? max : unit.get<Limit>("Service", "MemoryLimit"), physical_memory);
    limits.memory_high = bytes_of(unit.get<Limit>("Service", "MemoryHigh"), physical_memory);
    limits.tasks_max = bytes_of(unit.get<Limit>("Service", "TasksMax"), pid_max);
    if (const Limit* quota = unit.get<Limit>("Service", "CPUQuota")) limits.cpu_quota_usec = quota->value * 100;
    if (const int64_t* weight = unit.get<int64_t>("Service", "CPUWeight"))
        limits.cpu_weight = static_cast<uint64_t>(*weight);
    return limits;
}

std::string build_exec_spec(const Unit& unit, const Paths& paths, const StartContext& start) {
    Object spec(Poco::JSON_PRESERVE_KEY_ORDER);
    spec.set("version", 1);
    spec.set("unit", unit.name);
    spec.set("invocation", start.invocation);
    spec.set("type", effective_type(unit));
    for (const auto& [field, key] : std::vector<std::pair<const char*, const char*>>{
             {"exec_condition", "ExecCondition"}, {"exec_start_pre", "ExecStartPre"}, {"exec_start", "ExecStart"},
             {"exec_start_post", "ExecStartPost"}, {"exec_reload", "ExecReload"}, {"exec_stop", "ExecStop"},
             {"exec_stop_post", "ExecStopPost"}})
        spec.set(field, commands(unit, key));
    spec.set("health_check_exec", commands(unit, "HealthCheckExec", "X-Gitvisor"));

    Object::Ptr env = new Object;
    for (const std::string& name : value_or_default(unit, "Service", "PassEnvironment", std::vector<std::string>{}))
        if (const char* v = std::getenv(name.c_str())) env->set(name, std::string(v));
    for (const auto& [name, value] : value_or_default(unit, "Service", "Environment", EnvironmentMap{}))
        env->set(name, value);
    spec.set("environment", env);
    spec.set("environment_files", strings(value_or_default(unit, "Service", "EnvironmentFile", std::vector<std::string>{})));
    spec.set("unset_environment", strings(value_or_default(unit, "Service", "UnsetEnvironment", std::vector<std::string>{})));
    const std::string user = value_or_default(unit, "Service", "User", std::string{});
    spec.set("user", user == "root" ? std::string{} : user);  // root: no credential change at all
    spec.set("group", value_or_default(unit, "Service", "Group", std::string{}));
    spec.set("supplementary_groups",
             strings(value_or_default(unit, "Service", "SupplementaryGroups", std::vector<std::string>{})));
    spec.set("working_directory", value_or_default(unit, "Service", "WorkingDirectory", std::string{}));
    spec.set("umask", static_cast<int>(value_or_default(unit, "Service", "UMask", Mode{022}).bits));
    if (const int64_t* nice = unit.get<int64_t>("Service", "Nice")) spec.set("nice", *nice);
    if (const int64_t* oom = unit.get<int64_t>("Service", "OOMScoreAdjust")) spec.set("oom_score_adjust", *oom);

    Object::Ptr rlimits = new Object;
    if (const auto* section = [&]() -> const std::map<std::string, Setting>* {
            auto it = unit.sections.find("Service");
            return it == unit.sections.end() ? nullptr : &it->second;
        }()) {
        for (const auto& [key, setting] : *section) {
            const auto* r = std::get_if<RLimit>(&setting.value);
            if (!r || !key.starts_with("Limit")) continue;
            Array::Ptr pair = new Array;
            pair->add(r->soft == kInfinity ? int64_t{-1} : static_cast<int64_t>(r->soft));
            pair->add(r->hard == kInfinity ? int64_t{-1} : static_cast<int64_t>(r->hard));
            rlimits->set(key.substr(5), pair);
        }
    }
    spec.set("rlimits", rlimits);
    spec.set("no_new_privileges", value_or_default(unit, "Service", "NoNewPrivileges", false));
    spec.set("private_tmp", value_or_default(unit, "Service", "PrivateTmp", false));
    spec.set("protect_system", value_or_default(unit, "Service", "ProtectSystem", std::string("no")));
    spec.set("protect_home", value_or_default(unit, "Service", "ProtectHome", std::string("no")));
    for (const auto& [field, key] :
         std::vector<std::pair<const char*, const char*>>{{"read_only_paths", "ReadOnlyPaths"},
                                                          {"read_write_paths", "ReadWritePaths"},
                                                          {"inaccessible_paths", "InaccessiblePaths"}})
        spec.set(field, strings(value_or_default(unit, "Service", key, std::vector<std::string>{})));
    for (const auto& [field, key] : std::vector<std::pair<const char*, const char*>>{
             {"private_devices", "PrivateDevices"},
             {"protect_kernel_tunables", "ProtectKernelTunables"},
             {"protect_kernel_modules", "ProtectKernelModules"},
             {"protect_kernel_logs", "ProtectKernelLogs"},
             {"protect_control_groups", "ProtectControlGroups"},
             {"protect_hostname", "ProtectHostname"},
             {"protect_clock", "ProtectClock"}})
        spec.set(field, value_or_default(unit, "Service", key, false));
    spec.set("protect_proc", value_or_default(unit, "Service", "ProtectProc", std::string("default")));
    spec.set("proc_subset", value_or_default(unit, "Service", "ProcSubset", std::string("all")));
    // The seccomp settings: each assignment as written, merged by gitvisor-exec as systemd merges them.
    for (const auto& [field, key] : std::vector<std::pair<const char*, const char*>>{
             {"system_call_filter", "SystemCallFilter"},
             {"system_call_architectures", "SystemCallArchitectures"},
             {"restrict_namespaces", "RestrictNamespaces"},
             {"restrict_address_families", "RestrictAddressFamilies"}})
        spec.set(field, strings(value_or_default(unit, "Service", key, std::vector<std::string>{})));
    const std::string error_number =
        value_or_default(unit, "Service", "SystemCallErrorNumber", std::string("kill"));
    spec.set("system_call_error_number", error_number == "kill" ? 0 : errno_from_name(error_number));
    for (const auto& [field, key] : std::vector<std::pair<const char*, const char*>>{
             {"lock_personality", "LockPersonality"},
             {"memory_deny_write_execute", "MemoryDenyWriteExecute"},
             {"restrict_realtime", "RestrictRealtime"},
             {"restrict_suid_sgid", "RestrictSUIDSGID"}})
        spec.set(field, value_or_default(unit, "Service", key, false));
    // RuntimeDirectory= and the others, with the roots systemd uses for the system manager.
    for (const auto& [field, key, base] : std::vector<std::tuple<std::string, std::string, const char*>>{
             {"runtime_directory", "RuntimeDirectory", "/run"},
             {"state_directory", "StateDirectory", "/var/lib"},
             {"cache_directory", "CacheDirectory", "/var/cache"},
             {"logs_directory", "LogsDirectory", "/var/log"},
             {"configuration_directory", "ConfigurationDirectory", "/etc"}}) {
        spec.set(field, strings(value_or_default(unit, "Service", key, std::vector<std::string>{})));
        spec.set(field + "_mode",
                 static_cast<int>(value_or_default(unit, "Service", key + "Mode", Mode{0755}).bits));
        spec.set(field + "_base", std::string(base));
    }
    spec.set("runtime_directory_preserve",
             value_or_default(unit, "Service", "RuntimeDirectoryPreserve", std::string("no")));
    // Each assignment as written ("~CAP_A CAP_B"); gitvisor-exec merges them as systemd does.
    if (const auto* bounding = unit.get<std::vector<std::string>>("Service", "CapabilityBoundingSet"))
        spec.set("capability_bounding_set", strings(*bounding));
    if (const auto* ambient = unit.get<std::vector<std::string>>("Service", "AmbientCapabilities"))
        spec.set("ambient_capabilities", strings(*ambient));
    // journal, inherit (and kmsg, ignored with a warning) go to the unit's log.
    const std::string output = value_or_default(unit, "Service", "StandardOutput", std::string("journal"));
    spec.set("standard_output", output == "inherit" ? std::string("journal") : output);
    spec.set("standard_error", value_or_default(unit, "Service", "StandardError", std::string("inherit")));

    spec.set("restart", value_or_default(unit, "Service", "Restart", std::string("no")));
    spec.set("restart_usec", usec(unit, "RestartSec", 100'000));
    spec.set("restart_steps", value_or_default(unit, "Service", "RestartSteps", int64_t{0}));
    spec.set("restart_max_delay_usec", usec(unit, "RestartMaxDelaySec", kInfinity));
    spec.set("success_exit_status", exit_statuses(unit, "SuccessExitStatus"));
    spec.set("restart_prevent_exit_status", exit_statuses(unit, "RestartPreventExitStatus"));
    spec.set("restart_force_exit_status", exit_statuses(unit, "RestartForceExitStatus"));
    const uint64_t interval = value_or_default(unit, "Unit", "StartLimitIntervalSec", Duration{10 * kUsecPerSec}).usec;
    spec.set("start_limit_interval_usec", interval == kInfinity ? int64_t{-1} : static_cast<int64_t>(interval));
    spec.set("start_limit_burst", value_or_default(unit, "Unit", "StartLimitBurst", int64_t{5}));
    spec.set("remain_after_exit", value_or_default(unit, "Service", "RemainAfterExit", false));
    const bool oneshot = effective_type(unit) == "oneshot";
    spec.set("timeout_start_usec", unit.find("Service", "TimeoutStartSec") || !oneshot
                                       ? usec(unit, "TimeoutStartSec", 90 * kUsecPerSec)
                                       : int64_t{-1});
    spec.set("timeout_stop_usec", usec(unit, "TimeoutStopSec", 10 * kUsecPerSec));
    spec.set("runtime_max_usec", usec(unit, "RuntimeMaxSec", kInfinity));
    spec.set("kill_mode", value_or_default(unit, "Service", "KillMode", std::string("control-group")));
    spec.set("kill_signal", value_or_default(unit, "Service", "KillSignal", Signal{15}).number);
    spec.set("final_kill_signal", value_or_default(unit, "Service", "FinalKillSignal", Signal{9}).number);
    if (const Signal* s = unit.get<Signal>("Service", "RestartKillSignal")) spec.set("restart_kill_signal", s->number);
    spec.set("send_sigkill", value_or_default(unit, "Service", "SendSIGKILL", true));
    spec.set("send_sighup", value_or_default(unit, "Service", "SendSIGHUP", false));
    const int64_t watchdog = usec(unit, "WatchdogSec", 0);
    spec.set("watchdog_usec", watchdog < 0 ? int64_t{0} : watchdog);  // infinity: no watchdog, as in systemd
    spec.set("watchdog_signal", value_or_default(unit, "Service", "WatchdogSignal", Signal{SIGABRT}).number);

    spec.set("cgroup_procs", strings(start.cgroup_procs));
    spec.set("log_file", paths.log_file(unit.name));
    int64_t log_max_bytes = start.log.max_bytes;
    if (const Limit* limit = unit.get<Limit>("X-Gitvisor", "LogMaxBytes"))
        log_max_bytes = limit->kind == Limit::Kind::Value ? static_cast<int64_t>(limit->value) : 0;
    spec.set("log_max_bytes", log_max_bytes);
    spec.set("log_keep", value_or_default(unit, "X-Gitvisor", "LogMaxFiles", start.log.max_files));
    if (!start.log_marker.empty()) spec.set("log_marker", start.log_marker);
    spec.set("status_file", paths.status_file(unit.name));
    if (const std::string* pid_file = unit.get<std::string>("Service", "PIDFile")) spec.set("pid_file", *pid_file);
    // sd_notify: a socket of the unit's own for Type=notify, or whenever NotifyAccess= allows messages. With
    // WatchdogSec= and no NotifyAccess=, the main process may send (systemd.service(5)).
    const std::string type = effective_type(unit);
    const std::string* access = unit.get<std::string>("Service", "NotifyAccess");
    if (type == "notify" || (access && *access != "none") || (!access && watchdog > 0)) {
        spec.set("notify_socket", paths.unit_dir(unit.name) + "/notify");
        spec.set("notify_access", access ? *access : std::string("main"));
    }
    spec.set("control_socket", paths.exec_socket(unit.name));
    std::ostringstream out;
    spec.stringify(out);
    return out.str();
}

}  // namespace gitvisor::daemon
