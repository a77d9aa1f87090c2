#pragma once
// Real git repositories in a temporary directory for the src/repo tests, made and inspected with the git CLI
// (an independent reader of what libgit2 wrote).

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "../cli/cli_support.h"

namespace gitvisor::testing {

// `git ARGS` in `dir`; fails the test when git does.
inline std::string git_ok(const std::filesystem::path& dir, const std::string& args) {
    const CommandResult r = run(git() + " " + args, dir);
    INFO("git " << args << " in " << dir.string() << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

// The first line of `git ARGS`' output.
inline std::string git_line(const std::filesystem::path& dir, const std::string& args) {
    const std::string out = git_ok(dir, args);
    return out.substr(0, out.find('\n'));
}

// Writes `files` into the work tree (an empty text removes the file), stages everything and commits.
// Returns the new commit's id.
inline std::string commit_files(const std::filesystem::path& work,
                                const std::map<std::string, std::string>& files, const std::string& message) {
    for (const auto& [name, text] : files) {
        const std::filesystem::path path = work / name;
        if (text.empty()) {
            std::filesystem::remove(path);
        } else {
            std::filesystem::create_directories(path.parent_path());
            std::ofstream(path, std::ios::binary) << text;
        }
    }
    git_ok(work, "add -A");
    git_ok(work, "commit -qm " + shell_quote(message));
    return git_line(work, "rev-parse HEAD");
}

inline std::string tree_of(const std::filesystem::path& repo, const std::string& revision) {
    return git_line(repo, "rev-parse " + shell_quote(revision + "^{tree}"));
}

}  // namespace gitvisor::testing
