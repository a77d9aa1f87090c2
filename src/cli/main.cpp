// gitvisor: the command-line tool (DESIGN §7). The commands talk to gitvisord over its control socket;
// `init` and `verify` work offline and are carried out by gitvisor-offline (src/cli/CMakeLists.txt).

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
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
    "  start|stop|restart UNIT...|--all    change units; stop holds a unit stopped across deploys;\n"
    "                                      start pulls in Requires=/Wants=, stop takes its dependents first\n"
    "  reload UNIT...                      run ExecReload= and wait for it\n"
    "  kill UNIT... [-s SIGNAL] [--kill-whom main|all]   signal the unit's processes (default SIGTERM, all)\n"
    "  reset-failed [UNIT...]              failed units (all when none is named) become inactive\n"
    "  why UNIT                            why a unit does not run: failure, hold, dependency, host, rejection\n"
    "  tree [UNIT]                         what each unit pulls in (Requires=, Wants=...), with states\n"
    "  history [-n N]                      deploys, newest first, with their actions and errors\n"
    "  cat UNIT                            the unit's files as deployed\n"
    "  diff [REV]                          the plan a deploy of REV (default: the branch tip) would run now\n"
    "  rollback REV                        commit REV's units again on the branch and deploy them\n"
    "  rollback --unpin                    remote mode (where rollback pins REV): deploy the branch again\n"
    "  sync [--force [REV]]                deploy the branch tip now and wait for the outcome;\n"
    "                                      --force also deploys a commit quarantined by auto-rollback\n"
    "  logs [UNIT...] [-n N] [-f]          the units' output (all units when none is named), oldest first;\n"
    "       [--since TIME] [--until TIME]  -f follows; TIME: 2026-11-25T13:20:01Z, \"2026-11-25 13:20\",\n"
    "       [--invocation ID|-1]           today, yesterday, -5min, \"1h ago\"; -1: the previous run\n"
    "  events [-n N] [-f]                  deploys, unit state changes and requests, oldest first\n"
    "  verify PATH...                      check unit files or folders of them\n"
    "  verify --repo PATH [--commit REV]   check the units of a commit (default HEAD)\n"
    "  verify --repo PATH --staged         check the units staged for the next commit\n"
    "  verify --print FILE                 show how a unit file is understood, as JSON\n"
    "  verify --list-directives            the directive table, as Markdown\n"
    "\n"
    "The daemon's socket: --socket, else $GITVISOR_SOCKET, else /run/gitvisor/control.sock.\n";

const std::vector<std::string> kCommands = {"init", "list", "status", "start", "stop", "restart", "reload", "kill", "reset-failed", "why", "tree",
                                            "history", "cat", "diff", "sync", "rollback", "logs", "events", "verify", "help"};

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

// gitvisor-offline beside this program (build tree), else in ../libexec/gitvisor (installed).
std::string offline_program() {
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    for (const std::filesystem::path& p : {self / "gitvisor-offline", self / "../libexec/gitvisor/gitvisor-offline"})
        if (!ec && access(p.c_str(), X_OK) == 0) return p.lexically_normal().string();
    return "/usr/libexec/gitvisor/gitvisor-offline";
}

int run_offline(const std::string& command, const std::vector<std::string>& args) {
    const std::string program = offline_program();
    std::vector<std::string> words = {program, command};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    std::cout.flush();
    execv(program.c_str(), argv.data());
    std::cerr << "gitvisor: error: cannot run '" << program << "' for '" << command << "': " << std::strerror(errno)
              << "\n";
    return gitvisor::kExitFailure;
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
        return run_offline(command, args);
    }
    if (command == "init") return run_offline(command, args);
    if (command == "list") return cli::run_list(global, args, std::cout, std::cerr);
    if (command == "status") return cli::run_status(global, args, std::cout, std::cerr);
    if (command == "start" || command == "stop" || command == "restart")
        return cli::run_change(command, global, args, std::cout, std::cerr);
    if (command == "history") return cli::run_history(global, args, std::cout, std::cerr);
    if (command == "cat") return cli::run_cat(global, args, std::cout, std::cerr);
    if (command == "reload") return cli::run_reload(global, args, std::cout, std::cerr);
    if (command == "kill") return cli::run_kill(global, args, std::cout, std::cerr);
    if (command == "reset-failed") return cli::run_reset_failed(global, args, std::cout, std::cerr);
    if (command == "why") return cli::run_why(global, args, std::cout, std::cerr);
    if (command == "tree") return cli::run_tree(global, args, std::cout, std::cerr);
    if (command == "sync") return cli::run_sync(global, args, std::cout, std::cerr);
    if (command == "rollback") return cli::run_rollback(global, args, std::cout, std::cerr);
    if (command == "diff") return cli::run_diff(global, args, std::cout, std::cerr);
    if (command == "logs") return cli::run_logs(global, args, std::cout, std::cerr);
    if (command == "events") return cli::run_events(global, args, std::cout, std::cerr);
    std::cerr << "gitvisor: error: unknown command '" << command << "'";
    if (const std::string s = suggest(command); !s.empty()) std::cerr << " (did you mean '" << s << "'?)";
    std::cerr << "\n" << kUsage;
    return kExitUsage;
}
