#pragma once
// The files of one commit, read through libgit2 from the object database (DESIGN §3: units are always
// read from the commit, never from a work tree, so an uncommitted edit does nothing).

#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "unitfile/unit_set.h"

namespace gitvisor::repo {

struct CommitTree {
    std::string commit;   // full hex id
    std::string subject;  // first line of the message
    std::string author;   // "Name <email>"
    std::vector<unitfile::TreeFile> files;  // *.service, drop-in *.conf, gitvisor.ini; symlinks kept as links
};

// Blob contents by id, for a long-lived reader (gitvisord): reading a commit that changes one file of 10,000
// reads one blob. After each read it holds just the blobs of that commit. Not thread-safe.
struct BlobCache {
    struct Blob {
        std::string content;
        uint64_t read = 0;  // the last read_commit_tree() that used it
    };
    std::unordered_map<std::string, Blob> blobs;  // raw 20-byte id -> content
    uint64_t reads = 0;
};

// Opens the repository at `repo_path` (bare or not) and reads `revision` (anything libgit2's revparse
// takes: a hash or prefix, a branch, a tag, "HEAD~2"). Errors name what failed:
// "cannot open repository '/x': ...", "cannot resolve 'v9': ...".
Result<CommitTree> read_commit_tree(const std::string& repo_path, const std::string& revision,
                                    BlobCache* cache = nullptr);

// The files staged in the index of a non-bare repository (what `git commit` would record), for pre-commit
// hooks. Unmerged entries are skipped.
Result<CommitTree> read_staged_tree(const std::string& repo_path);

// Inside a git hook where GIT_QUARANTINE_PATH and GIT_DIR are set (pre-receive, update), the repository is
// opened from the environment so that pushed objects not yet accepted can be read; `repo_path` then only
// names the repository in messages.

}  // namespace gitvisor::repo

namespace gitvisor::repo {

// The commit id the branch points at ("" with an error when the branch does not exist yet).
Result<std::string> resolve_branch(const std::string& repo_path, const std::string& branch);
// The full id of the commit `revision` names (a hash or unique prefix, a branch, a tag, "main~2").
// Errors: "cannot resolve 'x': ...", "'v1' is not a commit: ...".
Result<std::string> resolve_revision(const std::string& repo_path, const std::string& revision);
// The repository's git directory (the repository itself when bare, else its .git), with a trailing '/'.
Result<std::string> git_dir(const std::string& repo_path);

struct CommitSummary {
    std::string commit;   // full hex id
    std::string subject;  // first line of the message
};
// The commits after `ancestor` up to `tip`, both excluded, along first parents, oldest first: those a
// deploy of `tip` skips. Empty when `ancestor` is not a first-parent ancestor within `limit` commits (a
// force-push, an unrelated history), or either is "" or unknown.
std::vector<CommitSummary> commits_between(const std::string& repo_path, const std::string& ancestor,
                                           const std::string& tip, size_t limit);

}  // namespace gitvisor::repo

namespace gitvisor::repo {

// `gitvisor init`: a repository whose branch `branch` holds one empty commit, ready for units to be
// committed in place (or pushed to, when bare). An existing repository is an error, left untouched.
Result<std::string> init_repository(const std::string& path, bool bare, const std::string& branch = "main");

}  // namespace gitvisor::repo
