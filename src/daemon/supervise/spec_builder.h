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

// Log rotation when a unit's [X-Gitvisor] section does not say (gitvisord's --log-max-bytes,
// --log-max-files).
struct LogDefaults {
    int64_t max_bytes = 16 * 1024 * 1024;  // 0: never rotate
    int64_t max_files = 4;
};

// What a start adds to the unit's own settings.
struct StartContext {
    std::string invocation;
    std::vector<std::string> cgroup_procs;
    LogDefaults log;
    std::string log_marker;  // "" or the line that marks where this start begins in the log
};

// The spec as JSON text.
std::string build_exec_spec(const unitfile::Unit& unit, const Paths& paths, const StartContext& start);

}  // namespace gitvisor::daemon
