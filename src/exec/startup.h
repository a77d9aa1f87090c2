#pragma once
// What gitvisor-exec does to itself before it runs anything (DESIGN §1, §4): undo what it inherited from
// the daemon, join the unit's cgroups, and act as the init of the unit's PID namespace (private mounts,
// a fresh /proc) or, without a namespace, as a child subreaper.

#include <string>
#include <vector>

#include "common/result.h"

namespace gitvisor::exec {

// Default signal dispositions and an empty mask; fds 0-2 open (on /dev/null if they were closed), so
// that no pipe lands there.
void reset_process_state();

// Closes every descriptor above 2 but `keep` (-1: none), after the spec is read: it may come as
// /proc/self/fd/N.
void close_inherited_fds(int keep = -1);

// Whether gitvisor-exec's mount namespace differs from its parent's. gitvisord clones it with
// CLONE_NEWNS; without that, making "/" private and mounting /proc would change the daemon's view too.
bool has_own_mount_namespace();

// Writes "0" to each cgroup.procs file. Error: "cannot join cgroup 'PATH': reason".
Result<bool> join_cgroups(const std::vector<std::string>& procs_files, int* error_number);

// As PID 1 of a new PID and mount namespace: mount propagation private, a fresh /proc.
Result<bool> become_namespace_init();

// Without a namespace: orphans of the unit are re-parented to gitvisor-exec.
Result<bool> become_subreaper();

// PrivateTmp=: a new tmpfs on /tmp and on /var/tmp. Unless gitvisor-exec already has a mount namespace of
// its own (`own_mount_namespace`), it makes one first (needs root).
Result<bool> mount_private_tmp(bool own_mount_namespace, int* error_number);

}  // namespace gitvisor::exec
