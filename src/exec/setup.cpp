#include "exec/setup.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string_view>

#include "exec/capabilities.h"
#include "exec/exec_directories.h"

namespace gitvisor::exec {
namespace {

struct StepInfo {
    SetupStep step;
    const char* name;
    int exit_code;
};

// Exit codes from systemd's exit-status.h; ENVIRONMENT-FILE has none there and uses EXIT_MEMORY's.
constexpr StepInfo kSteps[] = {
    {SetupStep::None, "", 0},
    {SetupStep::SignalMask, "SIGNAL-MASK", 207},
    {SetupStep::Setsid, "SETSID", 220},
    {SetupStep::Stdin, "STDIN", 208},
    {SetupStep::Stdout, "STDOUT", 209},
    {SetupStep::Stderr, "STDERR", 222},
    {SetupStep::Nice, "NICE", 201},
    {SetupStep::OomAdjust, "OOM-ADJUST", 206},
    {SetupStep::Rlimit, "RLIMIT", 205},
    {SetupStep::User, "USER", 217},
    {SetupStep::Group, "GROUP", 216},
    {SetupStep::EnvironmentFile, "ENVIRONMENT-FILE", 204},
    {SetupStep::Chdir, "CHDIR", 200},
    {SetupStep::NoNewPrivileges, "NO-NEW-PRIVILEGES", 227},
    {SetupStep::Exec, "EXEC", 203},
    {SetupStep::Cgroup, "CGROUP", 219},
    {SetupStep::Namespace, "NAMESPACE", 226},
    {SetupStep::Fork, "FORK", 1},
    {SetupStep::Capabilities, "CAPABILITIES", 218},
    {SetupStep::RuntimeDirectory, "RUNTIME-DIRECTORY", 233},
    {SetupStep::StateDirectory, "STATE-DIRECTORY", 238},
    {SetupStep::CacheDirectory, "CACHE-DIRECTORY", 239},
    {SetupStep::LogsDirectory, "LOGS-DIRECTORY", 240},
    {SetupStep::ConfigurationDirectory, "CONFIGURATION-DIRECTORY", 241},
    {SetupStep::Seccomp, "SECCOMP", 228},
};

[[noreturn]] void fail(int report_fd, SetupStep step, int error) {
    const SetupReport report{static_cast<int32_t>(step), static_cast<int32_t>(error)};
    [[maybe_unused]] const ssize_t n = ::write(report_fd, &report, sizeof report);
    ::_exit(exit_code_of(step));
}

// The user and groups a command runs as.
struct Credentials {
    bool change = false;  // User= or Group= given
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
    std::string home;
    std::string shell;
    std::vector<gid_t> groups;
};

bool parse_id(const std::string& text, unsigned long& out) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
    errno = 0;
    out = std::strtoul(text.c_str(), nullptr, 10);
    return errno == 0 && out < 0xFFFFFFFFUL;
}

// Looks up User=, Group= and SupplementaryGroups=; returns the failing step or None.
SetupStep resolve_credentials(const Spec& spec, Credentials& creds, int& error) {
    unsigned long id = 0;
    if (!spec.user.empty()) {
        errno = 0;
        const passwd* pw =
            parse_id(spec.user, id) ? ::getpwuid(static_cast<uid_t>(id)) : ::getpwnam(spec.user.c_str());
        if (pw != nullptr) {
            creds.uid = pw->pw_uid;
            creds.gid = pw->pw_gid;
            creds.name = pw->pw_name;
            creds.home = pw->pw_dir;
            creds.shell = pw->pw_shell;
        } else if (parse_id(spec.user, id)) {
            // A numeric user without a passwd entry is allowed, as in systemd.
            creds.uid = static_cast<uid_t>(id);
            creds.gid = static_cast<gid_t>(id);
            creds.name = spec.user;
            creds.home = "/";
            creds.shell = "/usr/sbin/nologin";
        } else {
            error = errno != 0 ? errno : ESRCH;
            return SetupStep::User;
        }
        creds.change = true;
    } else {
        creds.uid = ::getuid();
        creds.gid = ::getgid();
        if (const passwd* pw = ::getpwuid(creds.uid)) {
            creds.name = pw->pw_name;
            creds.home = pw->pw_dir;
            creds.shell = pw->pw_shell;
        }
    }
    const auto lookup_group = [&](const std::string& name, gid_t& out) {
        unsigned long gid = 0;
        errno = 0;
        if (const group* gr =
                parse_id(name, gid) ? ::getgrgid(static_cast<gid_t>(gid)) : ::getgrnam(name.c_str())) {
            out = gr->gr_gid;
            return true;
        }
        if (parse_id(name, gid)) {
            out = static_cast<gid_t>(gid);
            return true;
        }
        error = errno != 0 ? errno : ESRCH;
        return false;
    };
    if (!spec.group.empty()) {
        if (!lookup_group(spec.group, creds.gid)) return SetupStep::Group;
        creds.change = true;
    }
    if (!creds.change && spec.supplementary_groups.empty()) return SetupStep::None;
    creds.change = true;
    // The user's own groups (as initgroups), then SupplementaryGroups=.
    if (!spec.user.empty() && !creds.name.empty()) {
        int count = 32;
        std::vector<gid_t> groups(static_cast<size_t>(count));
        while (::getgrouplist(creds.name.c_str(), creds.gid, groups.data(), &count) < 0) {
            groups.resize(static_cast<size_t>(count) + 32);
            count = static_cast<int>(groups.size());
        }
        groups.resize(static_cast<size_t>(count));
        creds.groups = std::move(groups);
    } else {
        creds.groups.push_back(creds.gid);
    }
    for (const std::string& name : spec.supplementary_groups) {
        gid_t gid = 0;
        if (!lookup_group(name, gid)) return SetupStep::Group;
        creds.groups.push_back(gid);
    }
    return SetupStep::None;
}

// setgroups + setgid + setuid. A process that is not root and already is the user keeps its groups.
SetupStep apply_credentials(const Credentials& creds, int& error) {
    const bool root = ::geteuid() == 0;
    if (root && ::setgroups(creds.groups.size(), creds.groups.data()) != 0) {
        error = errno;
        return SetupStep::Group;
    }
    if (creds.gid != ::getegid() && ::setresgid(creds.gid, creds.gid, creds.gid) != 0) {
        error = errno;
        return SetupStep::Group;
    }
    if ((root || creds.uid != ::geteuid()) && ::setresuid(creds.uid, creds.uid, creds.uid) != 0) {
        error = errno;
        return SetupStep::User;
    }
    return SetupStep::None;
}

// Opens where StandardOutput=/StandardError= send a stream (not Journal or Inherit, handled by the
// caller). The file is made with 0666 less UMask=, as systemd makes it.
int open_output(const OutputTarget& target, const Spec& spec, int null_fd) {
    using Kind = OutputTarget::Kind;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY;
    switch (target.kind) {
        case Kind::File:
            break;
        case Kind::Append:
            flags |= O_APPEND;
            break;
        case Kind::Truncate:
            flags |= O_TRUNC;
            break;
        default:
            return ::fcntl(null_fd, F_DUPFD_CLOEXEC, 3);
    }
    return ::open(target.path.c_str(), flags, 0666 & ~spec.umask);
}

// Points `target_fd` at where `output` goes; `pipe_fd` is the pipe to the log (-1: none).
bool redirect_output(int target_fd, int pipe_fd, const OutputTarget& output, const Spec& spec, int null_fd) {
    if (pipe_fd >= 0) return ::dup2(pipe_fd, target_fd) >= 0;
    if (output.kind == OutputTarget::Kind::Journal)
        return ::dup2(null_fd, target_fd) >= 0;  // no pipe: dropped
    const int fd = open_output(output, spec, null_fd);
    if (fd < 0) return false;
    const bool ok = ::dup2(fd, target_fd) >= 0;
    ::close(fd);
    return ok;
}

// Steps 1 to 3 of capabilities.h, up to the change of user (still root).
SetupStep prepare_capabilities(uint64_t bounding, uint64_t ambient, bool changes_user, int& error) {
    if (ambient != 0 && (error = add_inheritable_capabilities(ambient)) != 0) return SetupStep::Capabilities;
    if (bounding != kAllCapabilities && (error = limit_bounding_set(bounding)) != 0)
        return SetupStep::Capabilities;
    if (ambient != 0 && changes_user && (error = set_keep_capabilities(true)) != 0)
        return SetupStep::Capabilities;
    return SetupStep::None;
}

void reset_signals() {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        ::sigaction(sig, &action, nullptr);  // fails harmlessly for signals the C library reserves
    }
}

// The paths execve tries for a command: the path, or a bare name in the fixed search path (never
// $PATH). Made before the seccomp filter is loaded, so that nothing but execve runs after it.
std::vector<std::string> exec_candidates(const std::string& path) {
    if (path.find('/') != std::string::npos) return {path};
    std::vector<std::string> out;
    std::string_view dirs = kDefaultPath;
    while (!dirs.empty()) {
        const size_t colon = dirs.find(':');
        out.push_back(std::string(dirs.substr(0, colon)) + "/" + path);
        dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    }
    return out;
}

// execve of each candidate in turn. Returns the errno.
int exec_command(const std::vector<std::string>& candidates, char* const argv[], char* const envp[]) {
    if (candidates.size() == 1) {
        ::execve(candidates[0].c_str(), argv, envp);
        return errno;
    }
    int result = ENOENT;
    for (const std::string& candidate : candidates) {
        ::execve(candidate.c_str(), argv, envp);
        if (errno == EACCES)
            result = EACCES;
        else if (errno != ENOENT && errno != ENOTDIR)
            return errno;
    }
    return result;
}

}  // namespace

SetupStep lookup_ids(const Spec& spec, uid_t* uid, gid_t* gid, int* error) {
    Credentials creds;
    const SetupStep step = resolve_credentials(spec, creds, *error);
    *uid = creds.uid;
    *gid = creds.gid;
    return step;
}

const char* to_string(SetupStep step) {
    for (const StepInfo& info : kSteps) {
        if (info.step == step) return info.name;
    }
    return "?";
}

int exit_code_of(SetupStep step) {
    for (const StepInfo& info : kSteps) {
        if (info.step == step) return info.exit_code;
    }
    return 1;
}

void run_child(const ChildPlan& plan, int report_fd) {
    const Spec& spec = *plan.spec;
    const Command& command = *plan.command;
    int error = 0;

    // 1. Signals: default dispositions, nothing blocked (the supervisor blocks what its signalfd reads).
    reset_signals();
    sigset_t none;
    sigemptyset(&none);
    if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) fail(report_fd, SetupStep::SignalMask, errno);

    // 2. A session of its own: the service gets no terminal, and its process group can be signalled.
    if (::setsid() < 0) fail(report_fd, SetupStep::Setsid, errno);

    // 3. Commands with the '+' prefix leave the protected mount namespace (ProtectSystem=...) and the
    //    unit's UTS namespace (ProtectHostname=), as in systemd, where they run without the sandboxing.
    if (command.full_privileges && plan.unprotected_mount_namespace >= 0 &&
        ::setns(plan.unprotected_mount_namespace, CLONE_NEWNS) != 0) {
        fail(report_fd, SetupStep::Namespace, errno);
    }
    if (command.full_privileges && plan.host_uts_namespace >= 0 &&
        ::setns(plan.host_uts_namespace, CLONE_NEWUTS) != 0) {
        fail(report_fd, SetupStep::Namespace, errno);
    }

    // 4. stdin from /dev/null; stdout and stderr to gitvisor-exec's pipes or where StandardOutput= and
    //    StandardError= say (files opened as root, before the change of user, as systemd does).
    const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0) fail(report_fd, SetupStep::Stdin, errno);
    if (!redirect_output(STDOUT_FILENO, plan.stdout_fd, spec.standard_output, spec, null_fd)) {
        fail(report_fd, SetupStep::Stdout, errno);
    }
    // StandardError=inherit, or the same file as standard output: one open file for both.
    const bool same_as_stdout =
        plan.stderr_fd < 0 && (spec.standard_error.kind == OutputTarget::Kind::Inherit ||
                               (spec.standard_error == spec.standard_output &&
                                spec.standard_output.kind != OutputTarget::Kind::Journal));
    if (same_as_stdout
            ? ::dup2(STDOUT_FILENO, STDERR_FILENO) < 0
            : !redirect_output(STDERR_FILENO, plan.stderr_fd, spec.standard_error, spec, null_fd)) {
        fail(report_fd, SetupStep::Stderr, errno);
    }

    // 5. Process attributes.
    ::umask(spec.umask);
    if (spec.nice && ::setpriority(PRIO_PROCESS, 0, *spec.nice) != 0) fail(report_fd, SetupStep::Nice, errno);
    if (spec.oom_score_adjust) {
        const int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        const std::string value = std::to_string(*spec.oom_score_adjust);
        if (fd < 0 || ::write(fd, value.data(), value.size()) < 0)
            fail(report_fd, SetupStep::OomAdjust, errno);
        ::close(fd);
    }
    for (const ResourceLimit& limit : spec.rlimits) {
        rlimit value{limit.soft, limit.hard};
        if (::setrlimit(limit.resource, &value) == 0) continue;
        // As systemd (setrlimit_closest): a hard limit that cannot be raised (no CAP_SYS_RESOURCE) is kept,
        // and the request is lowered to it rather than failing the start.
        rlimit current{};
        if (errno == EPERM && ::getrlimit(limit.resource, &current) == 0) {
            value.rlim_max = std::min(value.rlim_max, current.rlim_max);
            value.rlim_cur = std::min(value.rlim_cur, value.rlim_max);
            if (::setrlimit(limit.resource, &value) == 0) continue;
        }
        fail(report_fd, SetupStep::Rlimit, errno);
    }

    // 6. Who it runs as, looked up now so that a change to /etc/passwd applies at the next start.
    Credentials creds;
    if (const SetupStep step = resolve_credentials(spec, creds, error); step != SetupStep::None) {
        fail(report_fd, step, error);
    }

    // 7. The environment: ours, then Environment=, then the files (read as root, before the switch).
    EnvList base;
    base.emplace_back("PATH", kDefaultPath);
    if (!spec.user.empty()) {
        base.emplace_back("USER", creds.name);
        base.emplace_back("LOGNAME", creds.name);
        base.emplace_back("HOME", creds.home);
        base.emplace_back("SHELL", creds.shell);
    }
    for (const auto& variable : directory_environment(spec)) base.push_back(variable);
    for (const auto& variable : plan.manager_env) base.push_back(variable);
    auto files = load_environment_files(spec.environment_files, &error);
    if (!files) fail(report_fd, SetupStep::EnvironmentFile, error);
    const EnvMap env = merge_environment(base, spec.environment, *files, spec.unset_environment);

    // 8. Credentials and capabilities (capabilities.h), unless the command has the '+' prefix. Ambient
    //    capabilities outside CapabilityBoundingSet= are not raised: they would outlive the bound.
    if (!command.full_privileges) {
        const uint64_t bounding = effective_bounding_set(spec);
        const uint64_t ambient = spec.ambient_capabilities & bounding;
        const bool changes_user = creds.change && !command.no_setuid && creds.uid != 0;
        if (const SetupStep step = prepare_capabilities(bounding, ambient, changes_user, error);
            step != SetupStep::None) {
            fail(report_fd, step, error);
        }
        // '!': the command keeps gitvisor-exec's user and groups; everything else applies.
        if (creds.change && !command.no_setuid) {
            if (const SetupStep step = apply_credentials(creds, error); step != SetupStep::None) {
                fail(report_fd, step, error);
            }
        }
        if (ambient != 0 && (error = raise_ambient_capabilities(ambient)) != 0) {
            fail(report_fd, SetupStep::Capabilities, error);
        }
    }

    // 9. The working directory, entered as the service's user.
    std::string directory = spec.working_directory;
    bool missing_ok = false;
    if (!directory.empty() && directory[0] == '-') {
        missing_ok = true;
        directory.erase(0, 1);
    }
    if (directory.empty()) directory = "/";
    if (directory == "~") directory = creds.home.empty() ? "/" : creds.home;
    if (::chdir(directory.c_str()) != 0 && !missing_ok) fail(report_fd, SetupStep::Chdir, errno);

    if (spec.no_new_privileges && !command.full_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        fail(report_fd, SetupStep::NoNewPrivileges, errno);
    }

    // 10. $VAR expansion (unless ':'), then the seccomp filter (seccomp.h), last, then execve.
    const std::vector<std::string> args = unitfile::expand_exec_argv(command, env);
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const std::vector<std::string> env_strings = environment_strings(env);
    std::vector<char*> envp;
    for (const std::string& entry : env_strings) envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);
    const std::vector<std::string> candidates = exec_candidates(command.path);
    if (plan.seccomp != nullptr && !command.full_privileges &&
        (error = install_seccomp(*plan.seccomp, report_fd)) != 0) {
        fail(report_fd, SetupStep::Seccomp, error);
    }
    fail(report_fd, SetupStep::Exec, exec_command(candidates, argv.data(), envp.data()));
}

}  // namespace gitvisor::exec
