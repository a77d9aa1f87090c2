// gitvisor: the command-line tool. Commands that talk to gitvisord arrive with the daemon; `verify`
// works offline.

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/exit_codes.h"

namespace {

constexpr const char* kUsage =
    "usage: gitvisor <command> [options]\n"
    "\n"
    "commands:\n"
    "  verify PATH...                      check unit files or folders of them\n"
    "  verify --repo PATH [--commit REV]   check the units of a commit (default HEAD)\n"
    "  verify --repo PATH --staged         check the units staged for the next commit\n"
    "  verify --print FILE                 show how a unit file is understood, as JSON\n"
    "  verify --list-directives            the directive table, as Markdown\n"
    "\n"
    "options of verify: --json (diagnostics as JSON)\n";

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
        (args.empty() ? std::cerr : std::cout) << kUsage;
        return args.empty() ? gitvisor::kExitUsage : gitvisor::kExitSuccess;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    if (command == "verify") return gitvisor::cli::run_verify(args, std::cout, std::cerr);
    std::cerr << "gitvisor: error: unknown command '" << command << "'";
    if (std::strncmp(command.c_str(), "ver", 3) == 0) std::cerr << " (did you mean 'verify'?)";
    std::cerr << "\n" << kUsage;
    return gitvisor::kExitUsage;
}
