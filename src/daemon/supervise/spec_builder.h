#pragma once
// Turns a loaded unit into the spec file gitvisor-exec reads (docs/exec-protocol.md), resolving defaults
// and host-dependent values (percentages of RAM, PassEnvironment=) here, in the daemon.

#include <string>
#include <vector>

#include "daemon/cgroup/cgroup.h"
#include "daemon/core/paths.h"
#include "unitfile/unit.h"

namespace gitvisor::daemon {

// The cgroup limits a unit asks for; percentages are of `physical_memory` / `pid_max`.
CgroupLimits cgroup_limits_of(const unitfile::Unit& unit, uint64_t physical_memory, uint64_t pid_max);

// The spec as JSON text.
std::string build_exec_spec(const unitfile::Unit& unit, const Paths& paths, const std::string& invocation,
                            const std::vector<std::string>& cgroup_procs);

}  // namespace gitvisor::daemon
