// gitvisor: the command-line tool (DESIGN §7). `init` and `verify` work offline; the other commands talk
// to gitvisord over its control socket.

#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/exit_codes.h"

namespace {

constexpr const char* kUsage =
    "usage: gitvisor [--socket PATH] [--json] <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  init [--bare] PATH                  make a unit repository with a first empty commit\n"
    "  list                                units of the deployed commit and their state\n"
    "  status [UNIT]                       a unit's state, pids, resources (exit 3 when not active)\n"
    "  start|stop|restart UNIT...          change units; stop holds a unit stopped across deploys\n"
    "  history [-n N]                      deploys, newest first, with their actions and errors\n"
    "  cat UNIT                            the unit's files as deployed\n"
    "  verify PATH...                      check unit files or folders of them\n"
    "  verify --repo PATH [--commit REV]   check the units of a commit (default HEAD)\n"
    "  verify --repo PATH --staged         check the units staged for the next commit\n"
    "  verify --print FILE                 show how a unit file is understood, as JSON\n"
    "  verify --list-directives            the directive table, as Markdown\n"
    "\n"
    "The daemon's socket: --socket, else $GITVISOR_SOCKET, else /run/gitvisor/control.sock.\n";

const std::vector<std::string> kCommands = {"init", "list", "status", "start", "stop", "restart",
                                            "history", "cat", "verify", "help"};

// The command that shares the longest prefix with `word` (at least 2 letters), for "did you mean".
std::string suggest(const std::string& word) {
    std::string best;
    size_t best_len = 1;
    for (const std::string& c : kCommands) {
        size_t n = 0;
        while (n < word.size() && n < c.size() && word[n] == c[n]) ++n;
        if (n > best_len) {
            best_len = n;
            best = c;
        }
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace gitvisor;
    cli::GlobalOptions global;
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--socket" && i + 1 < argc) {
            global.socket = argv[++i];
        } else if (a.starts_with("--socket=")) {
            global.socket = a.substr(9);
        } else if (a == "--json" && (args.empty() || args[0] != "verify")) {  // verify reads its own --json
            global.json = true;
        } else {
            args.push_back(a);
        }
    }
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
        (args.empty() ? std::cerr : std::cout) << kUsage;
        return args.empty() ? kExitUsage : kExitSuccess;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    if (command == "verify") {
        if (global.json) args.insert(args.begin(), "--json");
        return cli::run_verify(args, std::cout, std::cerr);
    }
    if (command == "init") return cli::run_init(args, std::cout, std::cerr);
    if (command == "list") return cli::run_list(global, args, std::cout, std::cerr);
    if (command == "status") return cli::run_status(global, args, std::cout, std::cerr);
    if (command == "start" || command == "stop" || command == "restart")
        return cli::run_change(command, global, args, std::cout, std::cerr);
    if (command == "history") return cli::run_history(global, args, std::cout, std::cerr);
    if (command == "cat") return cli::run_cat(global, args, std::cout, std::cerr);
    std::cerr << "gitvisor: error: unknown command '" << command << "'";
    if (const std::string s = suggest(command); !s.empty()) std::cerr << " (did you mean '" << s << "'?)";
    std::cerr << "\n" << kUsage;
    return kExitUsage;
}
