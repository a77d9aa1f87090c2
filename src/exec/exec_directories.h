#pragma once
// RuntimeDirectory=, StateDirectory=, CacheDirectory=, LogsDirectory=, ConfigurationDirectory=
// (systemd.exec(5)): relative names under /run, /var/lib, /var/cache, /var/log and /etc (the spec names the
// bases), made before every run with their parents, given the mode of *DirectoryMode= and, except the
// configuration ones, the unit's User=/Group= (the whole tree, when the top is not theirs yet). Commands
// find them in $RUNTIME_DIRECTORY, $STATE_DIRECTORY... (colon-separated).
//
// gitvisor-exec reaches them through a descriptor of each base directory opened before the file-system
// protections are mounted: ProtectSystem=strict makes /run read-only in its own view too, yet the runtime
// directories must still be emptied between automatic restarts and removed at the end.

#include <sys/types.h>

#include <array>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "exec/environment.h"
#include "exec/setup.h"
#include "exec/spec.h"

namespace gitvisor::exec {

// The set-up step a failure of this type of directory is reported as (RUNTIME-DIRECTORY, ...).
SetupStep directory_step(DirectoryType type);

// $RUNTIME_DIRECTORY=/run/a:/run/b and the others, for the types that have directories.
EnvList directory_environment(const Spec& spec);

// The full paths of the directories that stay writable under ProtectSystem=strict (all but the
// configuration ones, as in systemd).
std::vector<std::string> writable_directories(const Spec& spec);

class ExecDirectories {
public:
    // Opens (making it if missing) the base directory of every type that has directories. On error sets
    // *step and *error and returns false.
    bool open(const Spec& spec, SetupStep* step, int* error);

    // Makes the directories, sets their mode and owner. On error sets *step and *error.
    bool create(const Spec& spec, uid_t uid, gid_t gid, SetupStep* step, int* error);

    // Empties every RuntimeDirectory= directory, keeping it: between automatic restarts it may be a mount
    // point of gitvisor-exec's protected view, which cannot be removed.
    void clear_runtime(const Spec& spec);

    // Removes the RuntimeDirectory= directories; `unmount` first detaches the mounts gitvisor-exec made
    // on them in its own view (ProtectSystem= and friends).
    void remove_runtime(const Spec& spec, bool unmount);

private:
    std::array<UniqueFd, kDirectoryTypes> m_bases;
};

}  // namespace gitvisor::exec
