#include "exec/spec.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <tuple>

#include "common/enum_names.h"
#include "common/json_reader.h"
#include "common/unique_fd.h"
#include "exec/capabilities.h"

namespace gitvisor::exec {
namespace {

constexpr std::array<std::pair<ServiceType, const char*>, 5> kServiceTypes{{
    {ServiceType::Simple, "simple"},
    {ServiceType::Exec, "exec"},
    {ServiceType::Oneshot, "oneshot"},
    {ServiceType::Notify, "notify"},
    {ServiceType::Forking, "forking"},
}};

constexpr std::array<std::pair<RestartPolicy, const char*>, 7> kRestartPolicies{{
    {RestartPolicy::No, "no"},
    {RestartPolicy::OnSuccess, "on-success"},
    {RestartPolicy::OnFailure, "on-failure"},
    {RestartPolicy::OnAbnormal, "on-abnormal"},
    {RestartPolicy::OnWatchdog, "on-watchdog"},
    {RestartPolicy::OnAbort, "on-abort"},
    {RestartPolicy::Always, "always"},
}};

constexpr std::array<std::pair<KillMode, const char*>, 4> kKillModes{{
    {KillMode::ControlGroup, "control-group"},
    {KillMode::Mixed, "mixed"},
    {KillMode::Process, "process"},
    {KillMode::None, "none"},
}};

constexpr std::array<std::pair<NotifyAccess, const char*>, 4> kNotifyAccess{{
    {NotifyAccess::None, "none"},
    {NotifyAccess::Main, "main"},
    {NotifyAccess::Exec, "exec"},
    {NotifyAccess::All, "all"},
}};

constexpr std::array<std::pair<ProtectSystem, const char*>, 4> kProtectSystem{{
    {ProtectSystem::No, "no"},
    {ProtectSystem::Yes, "yes"},
    {ProtectSystem::Full, "full"},
    {ProtectSystem::Strict, "strict"},
}};

constexpr std::array<std::pair<ProtectHome, const char*>, 4> kProtectHome{{
    {ProtectHome::No, "no"},
    {ProtectHome::Yes, "yes"},
    {ProtectHome::ReadOnly, "read-only"},
    {ProtectHome::Tmpfs, "tmpfs"},
}};

constexpr std::array<std::pair<ProtectProc, const char*>, 4> kProtectProc{{
    {ProtectProc::Default, "default"},
    {ProtectProc::NoAccess, "noaccess"},
    {ProtectProc::Invisible, "invisible"},
    {ProtectProc::Ptraceable, "ptraceable"},
}};

constexpr std::array<std::pair<ProcSubset, const char*>, 2> kProcSubset{{
    {ProcSubset::All, "all"},
    {ProcSubset::Pid, "pid"},
}};

constexpr std::array<std::pair<PreserveMode, const char*>, 3> kPreserveModes{{
    {PreserveMode::No, "no"},
    {PreserveMode::Yes, "yes"},
    {PreserveMode::Restart, "restart"},
}};

// The spec's names of the directory fields, by DirectoryType.
constexpr std::array<const char*, kDirectoryTypes> kDirectoryFields = {
    "runtime_directory", "state_directory", "cache_directory", "logs_directory", "configuration_directory"};

constexpr std::array<std::pair<int, const char*>, 16> kRlimits{{
    {RLIMIT_CPU, "CPU"},
    {RLIMIT_FSIZE, "FSIZE"},
    {RLIMIT_DATA, "DATA"},
    {RLIMIT_STACK, "STACK"},
    {RLIMIT_CORE, "CORE"},
    {RLIMIT_RSS, "RSS"},
    {RLIMIT_NOFILE, "NOFILE"},
    {RLIMIT_AS, "AS"},
    {RLIMIT_NPROC, "NPROC"},
    {RLIMIT_MEMLOCK, "MEMLOCK"},
    {RLIMIT_LOCKS, "LOCKS"},
    {RLIMIT_SIGPENDING, "SIGPENDING"},
    {RLIMIT_MSGQUEUE, "MSGQUEUE"},
    {RLIMIT_NICE, "NICE"},
    {RLIMIT_RTPRIO, "RTPRIO"},
    {RLIMIT_RTTIME, "RTTIME"},
}};

// Reads the members of one JSON object into C++ values, remembering the first error.
class FieldReader {
public:
    explicit FieldReader(const JsonValue& object) : m_object(object) {}

    bool ok() const { return m_error.empty(); }
    const std::string& error() const { return m_error; }

    void fail(std::string_view key, const std::string& message) {
        if (m_error.empty()) m_error = "field '" + std::string(key) + "': " + message;
    }

    // The member, or nullptr when absent or null. A member of another type is an error.
    const JsonValue* get(std::string_view key, JsonType type) {
        const JsonValue* value = m_object.find(key);
        if (value == nullptr || value->is_null()) return nullptr;
        if (value->type() != type) {
            fail(key,
                 std::string("expected ") + json_type_name(type) + ", got " + json_type_name(value->type()));
            return nullptr;
        }
        return value;
    }

    void read(std::string_view key, std::string& out) {
        if (const JsonValue* v = get(key, JsonType::String)) out = v->as_string();
    }
    void read(std::string_view key, bool& out) {
        if (const JsonValue* v = get(key, JsonType::Bool)) out = v->as_bool();
    }
    void read(std::string_view key, int64_t& out) {
        if (const JsonValue* v = get(key, JsonType::Number)) {
            if (auto i = integer_of(key, *v)) out = *i;
        }
    }
    void read(std::string_view key, std::optional<int>& out) {
        if (const JsonValue* v = get(key, JsonType::Number)) {
            if (auto i = integer_of(key, *v)) out = static_cast<int>(*i);
        }
    }
    void read(std::string_view key, std::vector<std::string>& out) {
        const JsonValue* v = get(key, JsonType::Array);
        if (v == nullptr) return;
        out.clear();
        for (const JsonValue& item : v->items()) {
            if (!item.is_string()) {
                fail(key, "expected an array of strings");
                return;
            }
            out.push_back(item.as_string());
        }
    }

    std::optional<int64_t> integer_of(std::string_view key, const JsonValue& v) {
        if (v.is_integer()) return v.as_integer();
        const double d = v.as_double();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e18) return static_cast<int64_t>(d);
        fail(key, "expected an integer");
        return std::nullopt;
    }

    std::optional<int64_t> integer_in(std::string_view key, const JsonValue& v, int64_t min, int64_t max) {
        auto i = integer_of(key, v);
        if (i && (*i < min || *i > max)) {
            fail(key, "value " + std::to_string(*i) + " out of range");
            return std::nullopt;
        }
        return i;
    }

    template <class E, size_t N>
    void read_enum(std::string_view key, E& out, const std::array<std::pair<E, const char*>, N>& table) {
        const JsonValue* v = get(key, JsonType::String);
        if (v == nullptr) return;
        if (auto e = value_of(v->as_string(), table)) {
            out = *e;
        } else {
            fail(key, "unknown value '" + v->as_string() + "'");
        }
    }

    void read_commands(std::string_view key, std::vector<Command>& out) {
        const JsonValue* list = get(key, JsonType::Array);
        if (list == nullptr) return;
        for (const JsonValue& item : list->items()) {
            if (!item.is_object()) {
                fail(key, "expected an array of commands (objects)");
                return;
            }
            FieldReader fields(item);
            Command command;
            fields.read("path", command.path);
            fields.read("argv", command.argv);
            fields.read("ignore_failure", command.ignore_failure);
            fields.read("no_env_expand", command.no_env_expand);
            fields.read("full_privileges", command.full_privileges);
            fields.read("no_setuid", command.no_setuid);
            if (!fields.ok()) {
                fail(key, fields.error());
                return;
            }
            if (command.path.empty()) {
                fail(key, "a command without 'path'");
                return;
            }
            if (command.argv.empty()) command.argv.push_back(command.path);
            out.push_back(std::move(command));
        }
    }

    void read_exit_status_set(std::string_view key, ExitStatusSet& out) {
        const JsonValue* v = get(key, JsonType::Object);
        if (v == nullptr) return;
        for (const auto& [member, list, max] :
             {std::tuple{"statuses", &out.statuses, 255}, std::tuple{"signals", &out.signals, 64}}) {
            const JsonValue* items = v->find(member);
            if (items == nullptr || items->is_null()) continue;
            if (!items->is_array()) {
                fail(key, std::string("'") + member + "' must be an array of numbers");
                return;
            }
            for (const JsonValue& item : items->items()) {
                auto i = item.is_number() ? integer_in(key, item, 0, max) : std::nullopt;
                if (!i) {
                    fail(key, std::string("'") + member + "' must be an array of numbers");
                    return;
                }
                list->push_back(static_cast<int>(*i));
            }
        }
    }

    void read_environment(std::string_view key, std::vector<std::pair<std::string, std::string>>& out) {
        const JsonValue* v = get(key, JsonType::Object);
        if (v == nullptr) return;
        for (size_t i = 0; i < v->keys().size(); ++i) {
            const JsonValue& value = v->items()[i];
            if (!value.is_string()) {
                fail(key, "the value of '" + v->keys()[i] + "' must be a string");
                return;
            }
            out.emplace_back(v->keys()[i], value.as_string());
        }
    }

    void read_rlimits(std::string_view key, std::vector<ResourceLimit>& out) {
        const JsonValue* v = get(key, JsonType::Object);
        if (v == nullptr) return;
        for (size_t i = 0; i < v->keys().size(); ++i) {
            const std::string& name = v->keys()[i];
            const JsonValue& pair = v->items()[i];
            ResourceLimit limit;
            limit.resource = rlimit_from_name(name);
            if (limit.resource < 0) {
                fail(key, "unknown limit '" + name + "'");
                return;
            }
            if (!pair.is_array() || pair.size() != 2 || !pair.items()[0].is_number() ||
                !pair.items()[1].is_number()) {
                fail(key, "'" + name + "' must be [soft, hard]");
                return;
            }
            const auto soft = integer_in(key, pair.items()[0], -1, INT64_MAX);
            const auto hard = integer_in(key, pair.items()[1], -1, INT64_MAX);
            if (!soft || !hard) return;
            limit.soft = *soft < 0 ? RLIM_INFINITY : static_cast<rlim_t>(*soft);
            limit.hard = *hard < 0 ? RLIM_INFINITY : static_cast<rlim_t>(*hard);
            out.push_back(limit);
        }
    }

    // Absolute paths, each optionally prefixed by '-' and '+' (ReadOnlyPaths= ...).
    void read_paths(std::string_view key, std::vector<std::string>& out) {
        read(key, out);
        for (const std::string& path : out) {
            const size_t start = path.find_first_not_of("-+");
            if (start == std::string::npos || path[start] != '/') {
                fail(key, "'" + path + "' is not an absolute path");
                return;
            }
        }
    }

    // RuntimeDirectory= and the others: names, mode, base.
    void read_directory(const std::string& key, ExecDirectory& out) {
        read(key, out.names);
        for (const std::string& name : out.names) {
            if (name.empty() || name.front() == '/' || name == ".." || name.starts_with("../") ||
                name.ends_with("/..") || name.find("/../") != std::string::npos) {
                fail(key, "'" + name + "' must be a relative path without '..'");
                return;
            }
        }
        const std::string mode_key = key + "_mode";
        if (const JsonValue* v = get(mode_key, JsonType::Number)) {
            if (auto i = integer_in(mode_key, *v, 0, 07777)) out.mode = static_cast<mode_t>(*i);
        }
        const std::string base_key = key + "_base";
        read(base_key, out.base);
        if (out.base.empty() || out.base.front() != '/') fail(base_key, "expected an absolute path");
    }

    void read_capabilities(std::string_view key, uint64_t initial, std::optional<uint64_t>& out) {
        std::vector<std::string> assignments;
        read(key, assignments);
        if (m_object.find(key) == nullptr || m_object.find(key)->is_null()) return;
        auto set = merge_capability_assignments(assignments, initial);
        if (!set) {
            fail(key, set.error());
            return;
        }
        out = *set;
    }

    void read_output(std::string_view key, OutputTarget& out, bool inherit_allowed) {
        const JsonValue* v = get(key, JsonType::String);
        if (v == nullptr) return;
        auto target = output_target_from_string(v->as_string());
        if (!target || (!inherit_allowed && target->kind == OutputTarget::Kind::Inherit)) {
            fail(key, "unknown value '" + v->as_string() + "'");
            return;
        }
        out = *target;
    }

    void read_signal(std::string_view key, int& out) {
        if (const JsonValue* v = get(key, JsonType::Number)) {
            if (auto i = integer_in(key, *v, 1, 64)) out = static_cast<int>(*i);
        }
    }

private:
    const JsonValue& m_object;
    std::string m_error;
};

}  // namespace

const char* to_string(ServiceType type) { return name_of(type, kServiceTypes); }
const char* to_string(RestartPolicy policy) { return name_of(policy, kRestartPolicies); }
const char* to_string(KillMode mode) { return name_of(mode, kKillModes); }
const char* to_string(NotifyAccess access) { return name_of(access, kNotifyAccess); }
const char* to_string(ProtectSystem protect) { return name_of(protect, kProtectSystem); }
const char* to_string(ProtectHome protect) { return name_of(protect, kProtectHome); }
const char* to_string(ProtectProc protect) { return name_of(protect, kProtectProc); }
const char* to_string(ProcSubset subset) { return name_of(subset, kProcSubset); }
const char* to_string(PreserveMode mode) { return name_of(mode, kPreserveModes); }

std::optional<OutputTarget> output_target_from_string(std::string_view text) {
    using Kind = OutputTarget::Kind;
    if (text == "journal") return OutputTarget{Kind::Journal, {}};
    if (text == "null") return OutputTarget{Kind::Null, {}};
    if (text == "inherit") return OutputTarget{Kind::Inherit, {}};
    for (const auto& [prefix, kind] : {std::pair{std::string_view("file:"), Kind::File},
                                       std::pair{std::string_view("append:"), Kind::Append},
                                       std::pair{std::string_view("truncate:"), Kind::Truncate}}) {
        if (!text.starts_with(prefix)) continue;
        const std::string_view path = text.substr(prefix.size());
        if (path.empty() || path.front() != '/') return std::nullopt;
        return OutputTarget{kind, std::string(path)};
    }
    return std::nullopt;
}
std::optional<ServiceType> service_type_from_string(std::string_view text) {
    return value_of(text, kServiceTypes);
}
std::optional<RestartPolicy> restart_policy_from_string(std::string_view text) {
    return value_of(text, kRestartPolicies);
}
std::optional<KillMode> kill_mode_from_string(std::string_view text) { return value_of(text, kKillModes); }

bool ExitStatusSet::has_status(int status) const {
    return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

bool ExitStatusSet::has_signal(int signal) const {
    return std::find(signals.begin(), signals.end(), signal) != signals.end();
}

int rlimit_from_name(std::string_view name) {
    for (const auto& [resource, text] : kRlimits) {
        if (name == text) return resource;
    }
    return -1;
}

Result<Spec> parse_spec(std::string_view json) {
    auto parsed = parse_json(json);
    if (!parsed) return Result<Spec>::fail(parsed.error());
    const JsonValue& root = *parsed;
    if (!root.is_object()) return Result<Spec>::fail("the spec must be a JSON object");

    FieldReader fields(root);
    const JsonValue* version = root.find("version");
    if (version == nullptr || !version->is_integer() || version->as_integer() != 1) {
        return Result<Spec>::fail("field 'version': expected 1");
    }

    Spec spec;
    fields.read("unit", spec.unit);
    fields.read("invocation", spec.invocation);
    fields.read_enum("type", spec.type, kServiceTypes);
    fields.read_commands("exec_condition", spec.exec_condition);
    fields.read_commands("exec_start_pre", spec.exec_start_pre);
    fields.read_commands("exec_start", spec.exec_start);
    fields.read_commands("exec_start_post", spec.exec_start_post);
    fields.read_commands("exec_reload", spec.exec_reload);
    fields.read_commands("exec_stop", spec.exec_stop);
    fields.read_commands("exec_stop_post", spec.exec_stop_post);
    fields.read_commands("health_check_exec", spec.health_check_exec);
    fields.read_environment("environment", spec.environment);
    fields.read("environment_files", spec.environment_files);
    fields.read("unset_environment", spec.unset_environment);
    fields.read("user", spec.user);
    fields.read("group", spec.group);
    fields.read("supplementary_groups", spec.supplementary_groups);
    fields.read("working_directory", spec.working_directory);
    if (const JsonValue* v = fields.get("umask", JsonType::Number)) {
        if (auto i = fields.integer_in("umask", *v, 0, 0777)) spec.umask = static_cast<mode_t>(*i);
    }
    if (const JsonValue* v = fields.get("nice", JsonType::Number)) {
        if (auto i = fields.integer_in("nice", *v, -20, 19)) spec.nice = static_cast<int>(*i);
    }
    if (const JsonValue* v = fields.get("oom_score_adjust", JsonType::Number)) {
        if (auto i = fields.integer_in("oom_score_adjust", *v, -1000, 1000)) {
            spec.oom_score_adjust = static_cast<int>(*i);
        }
    }
    fields.read_rlimits("rlimits", spec.rlimits);
    fields.read("no_new_privileges", spec.no_new_privileges);
    fields.read("private_tmp", spec.private_tmp);
    fields.read_enum("protect_system", spec.protect_system, kProtectSystem);
    fields.read_enum("protect_home", spec.protect_home, kProtectHome);
    fields.read_paths("read_only_paths", spec.read_only_paths);
    fields.read_paths("read_write_paths", spec.read_write_paths);
    fields.read_paths("inaccessible_paths", spec.inaccessible_paths);
    fields.read("private_devices", spec.private_devices);
    fields.read("protect_kernel_tunables", spec.protect_kernel_tunables);
    fields.read("protect_kernel_modules", spec.protect_kernel_modules);
    fields.read("protect_kernel_logs", spec.protect_kernel_logs);
    fields.read("protect_control_groups", spec.protect_control_groups);
    fields.read("protect_hostname", spec.protect_hostname);
    fields.read("protect_clock", spec.protect_clock);
    fields.read_enum("protect_proc", spec.protect_proc, kProtectProc);
    fields.read_enum("proc_subset", spec.proc_subset, kProcSubset);
    fields.read("system_call_filter", spec.system_call_filter);
    if (const JsonValue* v = fields.get("system_call_error_number", JsonType::Number)) {
        if (auto i = fields.integer_in("system_call_error_number", *v, 0, 4095))
            spec.system_call_error_number = static_cast<int>(*i);
    }
    fields.read("system_call_architectures", spec.system_call_architectures);
    fields.read("lock_personality", spec.lock_personality);
    fields.read("memory_deny_write_execute", spec.memory_deny_write_execute);
    fields.read("restrict_realtime", spec.restrict_realtime);
    fields.read("restrict_suid_sgid", spec.restrict_suid_sgid);
    fields.read("restrict_namespaces", spec.restrict_namespaces);
    fields.read("restrict_address_families", spec.restrict_address_families);
    for (size_t type = 0; type < kDirectoryTypes; ++type)
        fields.read_directory(kDirectoryFields[type], spec.directories[type]);
    fields.read_enum("runtime_directory_preserve", spec.runtime_directory_preserve, kPreserveModes);
    fields.read_capabilities("capability_bounding_set", kAllCapabilities, spec.capability_bounding_set);
    std::optional<uint64_t> ambient;
    fields.read_capabilities("ambient_capabilities", 0, ambient);
    spec.ambient_capabilities = ambient.value_or(0);
    fields.read_output("standard_output", spec.standard_output, false);
    fields.read_output("standard_error", spec.standard_error, true);
    fields.read_enum("restart", spec.restart, kRestartPolicies);
    fields.read("restart_usec", spec.restart_usec);
    if (const JsonValue* v = fields.get("restart_steps", JsonType::Number)) {
        if (auto i = fields.integer_in("restart_steps", *v, 0, 0xFFFFFFFF)) spec.restart_steps = *i;
    }
    fields.read("restart_max_delay_usec", spec.restart_max_delay_usec);
    fields.read_exit_status_set("success_exit_status", spec.success_exit_status);
    fields.read_exit_status_set("restart_prevent_exit_status", spec.restart_prevent_exit_status);
    fields.read_exit_status_set("restart_force_exit_status", spec.restart_force_exit_status);
    fields.read("start_limit_interval_usec", spec.start_limit_interval_usec);
    fields.read("start_limit_burst", spec.start_limit_burst);
    fields.read("remain_after_exit", spec.remain_after_exit);
    fields.read("timeout_start_usec", spec.timeout_start_usec);
    fields.read("runtime_max_usec", spec.runtime_max_usec);
    fields.read("timeout_stop_usec", spec.timeout_stop_usec);
    fields.read_enum("kill_mode", spec.kill_mode, kKillModes);
    fields.read_signal("kill_signal", spec.kill_signal);
    fields.read_signal("final_kill_signal", spec.final_kill_signal);
    if (root.find("restart_kill_signal") != nullptr) fields.read_signal("restart_kill_signal", spec.restart_kill_signal);
    fields.read("send_sigkill", spec.send_sigkill);
    fields.read("send_sighup", spec.send_sighup);
    fields.read("watchdog_usec", spec.watchdog_usec);
    fields.read_signal("watchdog_signal", spec.watchdog_signal);
    fields.read("cgroup_procs", spec.cgroup_procs);
    fields.read("log_file", spec.log_file);
    fields.read("log_max_bytes", spec.log_max_bytes);
    fields.read("log_keep", spec.log_keep);
    fields.read("log_marker", spec.log_marker);
    fields.read("notify_socket", spec.notify_socket);
    fields.read("pid_file", spec.pid_file);
    const bool access_given = root.find("notify_access") != nullptr;
    fields.read_enum("notify_access", spec.notify_access, kNotifyAccess);
    fields.read("status_file", spec.status_file);
    fields.read("control_socket", spec.control_socket);
    if (!fields.ok()) return Result<Spec>::fail(fields.error());

    if (spec.unit.empty()) return Result<Spec>::fail("field 'unit': missing");
    if (spec.status_file.empty()) return Result<Spec>::fail("field 'status_file': missing");
    if (spec.control_socket.empty()) return Result<Spec>::fail("field 'control_socket': missing");
    if (spec.exec_start.empty() && spec.type != ServiceType::Oneshot) {
        return Result<Spec>::fail("field 'exec_start': missing (only Type=oneshot may have none)");
    }
    if (spec.log_keep < 0) spec.log_keep = 0;
    if (!access_given && spec.type == ServiceType::Notify) spec.notify_access = NotifyAccess::Main;
    return Result<Spec>::ok(std::move(spec));
}

Result<Spec> read_spec_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Result<Spec>::fail(std::strerror(errno));
    std::string text;
    char buffer[4096];
    while (true) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Result<Spec>::fail(std::strerror(errno));
        if (n == 0) break;
        text.append(buffer, static_cast<size_t>(n));
        if (text.size() > 16 * 1024 * 1024) return Result<Spec>::fail("file too large");
    }
    return parse_spec(text);
}

}  // namespace gitvisor::exec
