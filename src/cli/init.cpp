// gitvisor init [--bare] [--branch NAME] PATH: a unit repository with a first empty commit.

#include <iostream>

#include "cli/commands.h"
#include "common/exit_codes.h"
#include "repo/commit_tree.h"

namespace gitvisor::cli {

int run_init(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    bool bare = false;
    std::string branch = "main";
    std::string path;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--bare") {
            bare = true;
        } else if (args[i] == "--branch" && i + 1 < args.size()) {
            branch = args[++i];
        } else if (!args[i].starts_with("-") && path.empty()) {
            path = args[i];
        } else {
            err << "gitvisor: error: unknown argument '" << args[i] << "'\nusage: gitvisor init [--bare] [--branch NAME] PATH\n";
            return kExitUsage;
        }
    }
    if (path.empty()) {
        err << "gitvisor: error: init needs a path\nusage: gitvisor init [--bare] [--branch NAME] PATH\n";
        return kExitUsage;
    }
    Result<std::string> commit = repo::init_repository(path, bare, branch);
    if (!commit) {
        err << "gitvisor: error: cannot init '" << path << "': " << commit.error() << "\n";
        return kExitFailure;
    }
    out << "Initialised " << (bare ? "bare " : "") << "unit repository " << path << " (branch " << branch
        << ", commit " << commit->substr(0, 7) << ")\n";
    return kExitSuccess;
}

}  // namespace gitvisor::cli
