// gitvisor-exec --spec PATH: the per-unit supervisor (DESIGN §1, docs/exec-protocol.md).
//
// 1. Undo what the daemon's process left: signal mask and dispositions; after reading the spec, every
//    inherited descriptor.
// 2. Join the unit's cgroups before anything else runs.
// 3. As PID 1 of the unit's PID and mount namespaces: private mounts and a fresh /proc; otherwise a
//    child subreaper (PID 1 gets the orphans anyway).
// 4. Open the status file's directory, the log and the control socket; then the unit's file system:
//    RuntimeDirectory= and the others, ProtectSystem= and friends, PrivateTmp= (after, so that neither a
//    private /tmp nor a read-only view can hide those files from gitvisor-exec).
//    A socket pair end passed as --control-fd is the daemon's first control connection: no waiting for
//    the control socket to appear.
// 5. Run the unit until it ends for good or is stopped; exit with the main process's status.

#include <malloc.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "exec/spec.h"
#include "exec/startup.h"
#include "exec/supervisor.h"

namespace {

void print_error(const std::string& message) {
    const std::string line = "gitvisor-exec: error: " + message + "\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

// A descriptor number above 2, or -1.
int parse_fd(std::string_view text) {
    int fd = 0;
    for (const char c : text) {
        if (c < '0' || c > '9' || fd > 100000) return -1;
        fd = fd * 10 + (c - '0');
    }
    return text.empty() || fd < 3 ? -1 : fd;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace gitvisor::exec;
    reset_process_state();

    // gitvisor-exec --spec PATH [--control-fd N]
    std::string spec_path;
    int control_fd = -1;
    bool usage_error = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--spec" && i + 1 < argc) {
            spec_path = argv[++i];
        } else if (arg.starts_with("--spec=")) {
            spec_path = arg.substr(7);
        } else if (arg == "--control-fd" && i + 1 < argc) {
            control_fd = parse_fd(argv[++i]);
            usage_error |= control_fd < 0;
        } else {
            usage_error = true;
        }
    }
    if (spec_path.empty() || usage_error) {
        const std::string_view usage = "usage: gitvisor-exec --spec PATH [--control-fd N]\n";
        [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, usage.data(), usage.size());
        return 2;
    }
    // Large buffers (a long log line, a big spec) go back to the system when freed.
    ::mallopt(M_MMAP_THRESHOLD, 64 * 1024);

    auto spec = read_spec_file(spec_path);
    if (!spec) {
        print_error("cannot read spec '" + spec_path + "': " + spec.error());
        return 1;
    }
    close_inherited_fds(control_fd);

    SetupStep failed_step = SetupStep::None;
    int failed_errno = 0;
    if (auto joined = join_cgroups(spec->cgroup_procs, &failed_errno); !joined) {
        print_error(spec->unit + ": " + joined.error());
        failed_step = SetupStep::Cgroup;
    }
    const bool namespace_init = ::getpid() == 1;
    const bool own_mounts = namespace_init && has_own_mount_namespace();
    if (namespace_init && !own_mounts) {
        print_error(spec->unit + ": no mount namespace of its own: /proc is not remounted");
    }
    auto init = own_mounts ? become_namespace_init() : become_subreaper();
    if (!init) print_error(spec->unit + ": " + init.error());  // the service can still run

    Supervisor supervisor(std::move(*spec), namespace_init);
    if (auto opened = supervisor.open(); !opened) {
        print_error(opened.error());
        return 1;
    }
    if (control_fd >= 0) supervisor.add_control_connection(control_fd);
    if (failed_step == SetupStep::None) {
        if (auto set_up = supervisor.set_up_file_system(own_mounts, &failed_step, &failed_errno); !set_up) {
            print_error(set_up.error());
        }
    }
    if (failed_step == SetupStep::None) {
        if (auto made = supervisor.prepare_seccomp(&failed_step, &failed_errno); !made)
            print_error(made.error());
    }
    if (failed_step != SetupStep::None) supervisor.fail_at_startup(failed_step, failed_errno);
    ::malloc_trim(0);
    return supervisor.run();
}
