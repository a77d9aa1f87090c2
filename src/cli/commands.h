#pragma once
// Entry points of the CLI's commands. Each takes the words after the command name and returns an
// exit code (common/exit_codes.h); output goes to the given streams so tests can capture it.

#include <iosfwd>
#include <string>
#include <vector>

namespace gitvisor::cli {

int run_verify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace gitvisor::cli
