#pragma once
// `gitvisor rollback REV` in local mode (DESIGN §3): a new commit on the branch whose tree is REV's tree, so
// git history stays the single source of truth and a rollback can itself be reverted.

#include <string>

#include "common/result.h"

namespace gitvisor::repo {

struct RollbackCommit {
    std::string commit;          // the new commit's full id
    std::string target;          // REV resolved: full id of the commit whose tree is restored
    std::string target_subject;  // its subject
    std::string message;         // "Roll back to 1a2b3c4: <subject>"
};

// Writes a new commit on `branch` (refs/heads/<branch>, which must exist) whose tree is `revision`'s tree and
// whose parent is the branch tip; author and committer "gitvisor <gitvisor@localhost>", now. `revision` is
// anything git_revparse_single resolves (full hash, unique prefix, tag, "HEAD~2", "main~1"). The commit is
// written even when the trees are equal: a rollback is always recorded.
//
// In a non-bare repository whose HEAD is `branch`, the index and work tree are moved to the new commit. When
// either has uncommitted changes to any path (tracked files modified, deleted or staged), or an untracked
// file stands where the rollback would write, nothing at all changes and the error lists up to 5 paths: "the
// work tree of '/srv/units' has uncommitted changes (web.service, db.service): commit or discard them first".
// Untracked files elsewhere are kept.
//
// The branch moves only from the tip read at the start (compare-and-swap, with a reflog entry): if another
// writer moved it meanwhile, the error says so and the branch keeps the other writer's commit.
// Other errors: "cannot resolve 'nope': <libgit2>" (also for an ambiguous prefix), "cannot resolve branch
// 'main': <libgit2>", "'v1' is not a commit: ...".
Result<RollbackCommit> commit_rollback(const std::string& repo_path, const std::string& branch,
                                       const std::string& revision);

}  // namespace gitvisor::repo
