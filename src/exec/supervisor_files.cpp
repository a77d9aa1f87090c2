#include "exec/supervisor.h"

// The unit's file system: RuntimeDirectory= and the other directories (made before every run, the
// runtime ones emptied or removed after it), and, once at start-up, ProtectSystem=, ProtectHome=,
// ReadOnlyPaths=, ReadWritePaths=, InaccessiblePaths=, PrivateDevices=, ProtectKernel*=... (protect.h),
// ProtectHostname= and PrivateTmp=; and the seccomp filter (seccomp.h), made once.

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "exec/protect.h"
#include "exec/startup.h"

namespace gitvisor::exec {

Result<bool> Supervisor::set_up_file_system(bool own_mount_namespace, SetupStep* step, int* error) {
    const auto fail = [&](SetupStep failed, const std::string& message) {
        *step = failed;
        return Result<bool>::fail(m_spec.unit + ": " + message);
    };
    // 1. The directories, before the protections: under ProtectSystem=strict they stay writable as
    //    mounts of their own, which needs them to exist.
    if (!m_directories.open(m_spec, step, error)) {
        return fail(*step, std::string("cannot open the directory of ") + to_string(*step) + ": " +
                               std::strerror(*error));
    }
    if (!make_directories(step, error)) {
        return fail(*step, std::string("cannot make the directories (") + to_string(*step) +
                               "): " + std::strerror(*error));
    }

    // 2. The protections, in a mount namespace of their own so that '+' commands can run without them.
    if (wants_protection(m_spec)) {
        auto left = enter_protected_namespace(error);
        if (!left) return fail(SetupStep::Namespace, left.error());
        m_unprotected_namespace = std::move(*left);
        own_mount_namespace = true;
        // The status file's directory (the unit's run directory) is covered by a tmpfs for a moment.
        const std::string& status = m_spec.status_file;
        const size_t slash = status.rfind('/');
        if (slash == 0 || slash == std::string::npos) {
            *error = EINVAL;
            return fail(SetupStep::Namespace, "the status file needs a directory of its own under '/'");
        }
        const std::string staging = status.substr(0, slash);
        if (auto applied = apply_protection(m_spec, writable_directories(m_spec), staging, error); !applied)
            return fail(SetupStep::Namespace, applied.error());
        m_protected = true;
    }

    // 3. ProtectHostname=: a UTS namespace of the unit's own, starting with the host's names.
    if (m_spec.protect_hostname) {
        m_host_uts_namespace.reset(::open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC));
        if (!m_host_uts_namespace || ::unshare(CLONE_NEWUTS) != 0) {
            *error = errno;
            return fail(SetupStep::Namespace,
                        std::string("cannot make a UTS namespace: ") + std::strerror(*error));
        }
    }

    // 4. PrivateTmp=, last, so that the protections leave the private /tmp writable.
    if (m_spec.private_tmp) {
        // A notify socket under /tmp or /var/tmp (a run folder there) would be hidden by the private /tmp:
        // its inode is bound again at the same path inside, where the service looks for it.
        const std::string& notify = m_spec.notify_socket;
        UniqueFd notify_inode;
        if (m_notify_fd && (notify.starts_with("/tmp/") || notify.starts_with("/var/tmp/")))
            notify_inode.reset(::open(notify.c_str(), O_PATH | O_CLOEXEC));
        if (auto mounted = mount_private_tmp(own_mount_namespace, error); !mounted)
            return fail(SetupStep::Namespace, mounted.error());
        if (notify_inode) {
            std::error_code ec;
            std::filesystem::create_directories(std::filesystem::path(notify).parent_path(), ec);
            const int placeholder = ::open(notify.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
            if (placeholder >= 0) ::close(placeholder);
            const std::string source = "/proc/self/fd/" + std::to_string(notify_inode.get());
            if (ec || placeholder < 0 || ::mount(source.c_str(), notify.c_str(), nullptr, MS_BIND, nullptr) != 0) {
                *error = ec ? ec.value() : errno;
                return fail(SetupStep::Namespace, "cannot keep the notify socket '" + notify +
                                                      "' inside the private /tmp: " + std::strerror(*error));
            }
        }
    }
    return Result<bool>::ok(true);
}

Result<bool> Supervisor::prepare_seccomp(SetupStep* step, int* error) {
    auto policy = seccomp_policy(m_spec);
    if (!policy) {
        *step = SetupStep::Seccomp;
        *error = EINVAL;
        return Result<bool>::fail(m_spec.unit + ": cannot make the seccomp filter: " + policy.error());
    }
    // LockPersonality= keeps the execution domain gitvisor-exec itself runs in.
    if (policy->any())
        m_seccomp = build_seccomp_program(*policy, static_cast<unsigned long>(::personality(0xFFFFFFFF)));
    return Result<bool>::ok(true);
}

bool Supervisor::make_directories(SetupStep* step, int* error) {
    const bool any = std::any_of(m_spec.directories.begin(), m_spec.directories.end(),
                                 [](const ExecDirectory& d) { return !d.names.empty(); });
    if (!any) return true;
    uid_t uid = 0;
    gid_t gid = 0;
    *step = lookup_ids(m_spec, &uid, &gid, error);
    return *step == SetupStep::None && m_directories.create(m_spec, uid, gid, step, error);
}

void Supervisor::after_run_directories(bool restarting) {
    // RuntimeDirectoryPreserve=no: a fresh directory for every run; restart: kept across restarts.
    if (restarting && m_spec.runtime_directory_preserve == PreserveMode::No)
        m_directories.clear_runtime(m_spec);
}

void Supervisor::remove_directories() {
    // RuntimeDirectoryPreserve=restart keeps them across a restart by gitvisord (`gitvisor restart`, a
    // deploy that changed the unit) too, as systemd does for manual restarts.
    if (m_spec.runtime_directory_preserve == PreserveMode::Yes) return;
    if (m_spec.runtime_directory_preserve == PreserveMode::Restart && m_stopping_for_restart) return;
    m_directories.remove_runtime(m_spec, m_protected);
}

}  // namespace gitvisor::exec
