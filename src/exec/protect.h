#pragma once
// ProtectSystem=, ProtectHome=, ReadOnlyPaths=, ReadWritePaths=, InaccessiblePaths=, PrivateDevices=,
// ProtectKernelTunables=, ProtectKernelModules=, ProtectKernelLogs=, ProtectControlGroups=, ProtectProc=
// and ProcSubset= (systemd.exec(5)), done as systemd's namespace.c does them, in gitvisor-exec's own mount
// namespace, once before the first command:
//   1. Plan: one entry per path with its mode, symbolic links resolved, sorted so that parents come
//      first. At one path the strongest mode wins (inaccessible, read-only, read-write, tmpfs, then the
//      paths ProtectSystem=strict leaves writable); entries under an inaccessible path are dropped, and so
//      is a read-only or read-write entry whose nearest parent entry has the same mode.
//   2. A copy of the whole tree is bound (recursively) on a staging directory; PrivateDevices= mounts a
//      new /dev in it and ProtectProc=/ProcSubset= a new /proc (protect_api.cpp). Every entry is mounted
//      in it: an empty node of mode 0000 of the path's type on an inaccessible path, a read-only tmpfs for
//      ProtectHome=tmpfs, a bind of the path on itself otherwise.
//   3. Each read-only entry is remounted read-only with every mount below it, except the mounts of deeper
//      entries: a read-write path under a read-only one keeps the mode it has outside.
//   4. The copy becomes gitvisor-exec's root (MS_MOVE and chroot, as systemd's mount_move_root()).
// Working on a copy leaves gitvisor-exec's own descriptors (its log, its status directory) on the
// original mounts: a mount with a file open for writing cannot be made read-only, and the log must stay
// writable whatever the unit may not write.

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "exec/spec.h"

namespace gitvisor::exec {

// In order of priority: at one path the first wins.
enum class MountMode { Inaccessible, ReadOnly, ReadWrite, Tmpfs, ReadWriteImplicit };

struct MountEntry {
    std::string path;
    MountMode mode = MountMode::ReadOnly;
    bool ignore_missing = false;  // a '-' prefix, or a path of ProtectSystem=/ProtectHome= (/boot, /home...)
    bool operator==(const MountEntry&) const = default;
};

// Whether the spec asks for any of these protections.
bool wants_protection(const Spec& spec);

// The entries the spec's settings ask for, in no particular order; `writable` are the paths that stay
// writable besides ReadWritePaths= (RuntimeDirectory=, StateDirectory=...).
std::vector<MountEntry> protection_entries(const Spec& spec, const std::vector<std::string>& writable);

// Step 1: `resolve` gives the real path of a path, or "" when it does not exist. A missing path that may
// not be missing is an error naming it.
Result<std::vector<MountEntry>> plan_mounts(std::vector<MountEntry> entries,
                                            const std::function<std::string(const std::string&)>& resolve);

// Component-wise path order (systemd's path_compare()): "/a" < "/a/b" < "/a-b".
int compare_paths(const std::string& a, const std::string& b);
// Whether `path` is `prefix` or lies under it.
bool path_is_under(const std::string& path, const std::string& prefix);

// In the copy (step 2), returning 0 or an errno: a tmpfs on `dev` with the pseudo devices (null, zero,
// full, random, urandom, tty), the host's /dev/pts, /dev/shm and /dev/mqueue, and the usual links; a new
// proc instance on `proc` with the hidepid= and subset= options.
int mount_private_dev(const std::string& dev);
int mount_private_proc(const std::string& proc, ProtectProc protect, ProcSubset subset);

// Leaves the mount namespace gitvisor-exec runs in (its own, or the daemon's when it has none: then
// root is needed) for a new one whose mounts are private, and returns a descriptor of the one it left:
// commands with the '+' prefix run there, without the protections. Errors carry the errno.
Result<UniqueFd> enter_protected_namespace(int* error_number);

// Steps 2 to 4, in a namespace of gitvisor-exec's own (enter_protected_namespace). `staging` is an
// existing directory that a tmpfs may cover for a moment (the unit's run directory); `writable` as for
// protection_entries(). Errors: "cannot make '/usr' read-only: <reason>", with the errno in *error_number.
Result<bool> apply_protection(const Spec& spec, const std::vector<std::string>& writable,
                              const std::string& staging, int* error_number);

}  // namespace gitvisor::exec
