#pragma once
// Signalling "every process of the unit" (KillMode=control-group). As PID 1 of the unit's PID namespace,
// kill(-1, sig) reaches every other process in it at once. Without a namespace (a developer's machine),
// gitvisor-exec is a child subreaper, so the unit's processes are its descendants: they are found in
// /proc, together with the members of the unit's cgroups when it has some.

#include <sys/types.h>

#include <string>
#include <vector>

namespace gitvisor::exec {

class ProcessKiller {
public:
    ProcessKiller(bool namespace_init, std::vector<std::string> cgroup_procs)
        : m_namespace_init(namespace_init), m_cgroup_procs(std::move(cgroup_procs)) {}

    // Sends `signal` to every process of the unit except gitvisor-exec itself. True when at least one
    // process was signalled.
    bool signal_all(int signal) const;

private:
    bool m_namespace_init;
    std::vector<std::string> m_cgroup_procs;
};

// The pids of `root`'s descendants, read from /proc (children before grandchildren).
std::vector<pid_t> list_descendants(pid_t root);

// The pids listed in one cgroup.procs file (empty when it cannot be read).
std::vector<pid_t> read_cgroup_procs(const std::string& path);

}  // namespace gitvisor::exec
