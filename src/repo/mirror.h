#pragma once
// Remote mode (DESIGN §3): gitvisord fetches one branch of a remote repository into a local bare mirror and
// deploys from the mirror, exactly as from a local repository.

#include <string>

#include "common/result.h"

namespace gitvisor::repo {

struct FetchOptions {
    std::string url;              // file://, git://, https://, ssh://, or a local path
    std::string branch = "main";  // the remote branch deployed
    std::string ssh_key_file;     // optional: private key for ssh:// (public key = key + ".pub" when present)
    std::string token_file;       // optional: a token for https:// (user "x-access-token"), or "user:token"
};

struct FetchResult {
    std::string tip;                 // the remote branch's commit after the fetch (full id)
    std::string previous_tip;        // what the mirror had before ("" on the first fetch)
    bool history_rewritten = false;  // previous_tip is not an ancestor of tip (a force-push)
};

// Fetches `options.branch` of the remote into the bare mirror at `mirror_path` as refs/heads/<branch>, a
// forced update so that a force-push is taken. The mirror is created on first use (bare, HEAD on the branch,
// remote "origin" = url, with no fetch refspec of its own); a changed url replaces origin's. Tags pointing
// into the fetched history come along (git's default auto-follow; an existing tag is not moved).
//
// The branch ref is written by libgit2's lock-and-rename once the objects are in, so it is either the old
// commit or the new one; on any error it is left as it was. Errors name the branch and url:
// "cannot fetch 'main' from 'git://127.0.0.1:9/x': <libgit2 message>", "... : the remote has no branch
// 'main'". libgit2 1.5.1 checks an ssh host key against ~/.ssh/known_hosts of the user running this (HOME):
// an unknown host is an error.
Result<FetchResult> fetch_branch(const std::string& mirror_path, const FetchOptions& options);

}  // namespace gitvisor::repo
