#pragma once
// Writes a file so that readers see the old or the new contents, never a mix (STYLE.md §12):
// a temporary file in the same folder, fsync, rename.

#include <string>

#include "common/result.h"

namespace gitvisor::daemon {

Result<bool> write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace gitvisor::daemon
