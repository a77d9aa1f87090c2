#pragma once
// Files gitvisor-exec keeps by directory: the status file, the log and the control socket are reached
// through a descriptor of their directory, opened once at start-up, so that a private /tmp mounted later
// (PrivateTmp=) cannot hide them from gitvisor-exec.

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace gitvisor::exec {

struct DirEntry {
    UniqueFd dir;      // O_PATH|O_DIRECTORY descriptor of the parent directory
    std::string name;  // the last path component
};

// "mkdir -p" of `path` (mode 0755 for what it creates). Errors: "cannot create 'DIR': <reason>".
Result<bool> make_directories(const std::string& path);

// Creates the parent directories of `path` and opens the parent. Errors name the directory.
Result<DirEntry> open_parent(const std::string& path);

}  // namespace gitvisor::exec
