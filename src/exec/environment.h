#pragma once
// The environment of one command, built in the child just before it runs (as systemd does, later
// definitions win): the variables gitvisor-exec sets (PATH, INVOCATION_ID, USER/HOME/... for User=,
// MAINPID, SERVICE_RESULT...), then Environment=, then the EnvironmentFile= files read at that moment;
// UnsetEnvironment= is applied last.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace gitvisor::exec {

using EnvList = std::vector<std::pair<std::string, std::string>>;
using EnvMap = std::map<std::string, std::string>;

// The fixed search path for bare program names, also the default $PATH (systemd's).
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Reads the EnvironmentFile= entries in order. "-PATH" skips a missing file; a glob pattern reads every
// match in order. On error returns "PATH: reason" and sets *error_number to the errno (EINVAL for a
// file that does not parse).
Result<EnvList> load_environment_files(const std::vector<std::string>& files, int* error_number);

// Merges the layers (later wins) and removes UnsetEnvironment= entries ("NAME", or "NAME=VALUE" to
// remove only that exact assignment).
EnvMap merge_environment(const EnvList& base, const EnvList& environment, const EnvList& files,
                         const std::vector<std::string>& unset);

// "NAME=VALUE" strings, for execve.
std::vector<std::string> environment_strings(const EnvMap& env);

}  // namespace gitvisor::exec
