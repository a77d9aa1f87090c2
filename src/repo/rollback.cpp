#include "repo/rollback.h"

#include <git2.h>

#include <vector>

#include "repo/git_handles.h"

namespace gitvisor::repo {
namespace {

using namespace detail;

constexpr size_t kListedPaths = 5;

// "a, b, c, d, e and 3 more"
std::string list_paths(const std::vector<std::string>& paths) {
    std::string out;
    for (size_t i = 0; i < paths.size() && i < kListedPaths; ++i) out += (i ? ", " : "") + paths[i];
    if (paths.size() > kListedPaths) out += " and " + std::to_string(paths.size() - kListedPaths) + " more";
    return out;
}

// Every path whose index differs from HEAD or whose work-tree file differs from the index, conflicts
// included; untracked and ignored files are not listed (the checkout itself guards the ones in its way).
Result<std::vector<std::string>> uncommitted_paths(git_repository* repo) {
    git_status_options options = GIT_STATUS_OPTIONS_INIT;
    options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    options.flags = 0;  // no untracked, no ignored, no rename detection, and the index is not rewritten
    git_status_list* raw = nullptr;
    if (git_status_list_new(&raw, repo, &options) != 0)
        return Result<std::vector<std::string>>::fail("cannot read the status of the work tree: " +
                                                      last_error());
    StatusListPtr list(raw);
    std::vector<std::string> paths;
    const size_t count = git_status_list_entrycount(list.get());
    for (size_t i = 0; i < count; ++i) {
        const git_status_entry* entry = git_status_byindex(list.get(), i);
        if (!entry || entry->status == GIT_STATUS_CURRENT) continue;
        const git_diff_delta* delta = entry->head_to_index ? entry->head_to_index : entry->index_to_workdir;
        if (!delta) continue;
        const char* path = delta->new_file.path ? delta->new_file.path : delta->old_file.path;
        if (path && (paths.empty() || paths.back() != path)) paths.emplace_back(path);
    }
    return Result<std::vector<std::string>>::ok(std::move(paths));
}

int collect_conflict(git_checkout_notify_t, const char* path, const git_diff_file*, const git_diff_file*,
                     const git_diff_file*, void* payload) {
    if (path) static_cast<std::vector<std::string>*>(payload)->emplace_back(path);
    return 0;
}

// Checkout options moving the index and work tree from `from` to `to` without overwriting anything
// uncommitted; conflicting paths are gathered into `conflicts`.
git_checkout_options checkout_options(git_tree* from, std::vector<std::string>* conflicts, bool dry_run) {
    git_checkout_options options = GIT_CHECKOUT_OPTIONS_INIT;
    options.checkout_strategy = GIT_CHECKOUT_SAFE | (dry_run ? GIT_CHECKOUT_DRY_RUN : 0);
    options.baseline = from;
    options.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
    options.notify_cb = collect_conflict;
    options.notify_payload = conflicts;
    return options;
}

std::string dirty_message(const std::string& repo_path, const std::vector<std::string>& paths) {
    return "the work tree of '" + repo_path + "' has uncommitted changes (" + list_paths(paths) +
           "): commit or discard them first";
}

Result<CommitPtr> resolve_commit(git_repository* repo, const std::string& revision) {
    git_object* raw = nullptr;
    if (git_revparse_single(&raw, repo, revision.c_str()) != 0)
        return Result<CommitPtr>::fail("cannot resolve '" + revision + "': " + last_error());
    ObjectPtr object(raw);
    git_object* peeled = nullptr;
    if (git_object_peel(&peeled, object.get(), GIT_OBJECT_COMMIT) != 0)
        return Result<CommitPtr>::fail("'" + revision + "' is not a commit: " + last_error());
    return Result<CommitPtr>::ok(CommitPtr(reinterpret_cast<git_commit*>(peeled)));
}

Result<TreePtr> tree_of(git_commit* commit) {
    git_tree* raw = nullptr;
    if (git_commit_tree(&raw, commit) != 0)
        return Result<TreePtr>::fail("cannot read the tree of " + oid_hex(git_commit_id(commit)) + ": " +
                                     last_error());
    return Result<TreePtr>::ok(TreePtr(raw));
}

// True when the repository has a work tree checked out from `branch_ref` (HEAD names it).
bool work_tree_follows(git_repository* repo, const std::string& branch_ref) {
    if (git_repository_is_bare(repo)) return false;
    git_reference* raw = nullptr;
    if (git_reference_lookup(&raw, repo, "HEAD") != 0) return false;
    ReferencePtr head(raw);
    return git_reference_type(head.get()) == GIT_REFERENCE_SYMBOLIC &&
           branch_ref == git_reference_symbolic_target(head.get());
}

}  // namespace

Result<RollbackCommit> commit_rollback(const std::string& repo_path, const std::string& branch,
                                       const std::string& revision) {
    using R = Result<RollbackCommit>;
    init_libgit2();
    git_repository* raw_repo = nullptr;
    if (git_repository_open_ext(&raw_repo, repo_path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0)
        return R::fail("cannot open repository '" + repo_path + "': " + last_error());
    RepoPtr repo(raw_repo);

    // 1. The branch tip (the new commit's parent and the expected old value of the ref) and the target.
    const std::string branch_ref = "refs/heads/" + branch;
    git_oid tip_id;
    if (git_reference_name_to_id(&tip_id, repo.get(), branch_ref.c_str()) != 0)
        return R::fail("cannot resolve branch '" + branch + "': " + last_error());
    git_commit* raw_tip = nullptr;
    if (git_commit_lookup(&raw_tip, repo.get(), &tip_id) != 0)
        return R::fail("cannot read the tip of '" + branch + "': " + last_error());
    CommitPtr tip(raw_tip);
    Result<CommitPtr> target = resolve_commit(repo.get(), revision);
    if (!target) return R::fail(target.error());
    Result<TreePtr> tip_tree = tree_of(tip.get());
    if (!tip_tree) return R::fail(tip_tree.error());
    Result<TreePtr> target_tree = tree_of(target->get());
    if (!target_tree) return R::fail(target_tree.error());

    RollbackCommit out;
    out.target = oid_hex(git_commit_id(target->get()));
    if (const char* summary = git_commit_summary(target->get())) out.target_subject = summary;
    Buf short_id;
    if (git_object_short_id(&short_id.buf, reinterpret_cast<const git_object*>(target->get())) != 0)
        return R::fail("cannot abbreviate " + out.target + ": " + last_error());
    out.message = "Roll back to " + short_id.str() + ": " + out.target_subject;

    // 2. A work tree on this branch must be clean, and the checkout must have nothing in its way; both are
    //    checked before anything is written, so a refusal changes nothing.
    const bool update_work_tree = work_tree_follows(repo.get(), branch_ref);
    if (update_work_tree) {
        Result<std::vector<std::string>> dirty = uncommitted_paths(repo.get());
        if (!dirty) return R::fail(dirty.error());
        if (!dirty->empty()) return R::fail(dirty_message(repo_path, *dirty));
        std::vector<std::string> in_the_way;
        git_checkout_options dry_run = checkout_options(tip_tree->get(), &in_the_way, true);
        if (git_checkout_tree(repo.get(), reinterpret_cast<git_object*>(target_tree->get()), &dry_run) != 0) {
            if (!in_the_way.empty())
                return R::fail("the work tree of '" + repo_path +
                               "' has untracked files the rollback would overwrite (" +
                               list_paths(in_the_way) + "): move or remove them first");
            return R::fail("cannot check out " + out.target + " in '" + repo_path + "': " + last_error());
        }
    }

    // 3. The commit object: unreachable, hence invisible, until the branch points at it.
    git_signature* raw_signature = nullptr;
    if (git_signature_now(&raw_signature, "gitvisor", "gitvisor@localhost") != 0)
        return R::fail("cannot make the commit's signature: " + last_error());
    SignaturePtr signature(raw_signature);
    const std::string commit_message = out.message + "\n";
    const git_commit* parents[] = {tip.get()};
    git_oid commit_id;
    if (git_commit_create(&commit_id, repo.get(), nullptr, signature.get(), signature.get(), nullptr,
                          commit_message.c_str(), target_tree->get(), 1, parents) != 0)
        return R::fail("cannot write the rollback commit: " + last_error());
    out.commit = oid_hex(&commit_id);

    // 4. Move the branch only from the tip read in step 1: a commit pushed meanwhile is never lost.
    git_reference* raw_ref = nullptr;
    const std::string reflog = "gitvisor rollback: " + out.message;
    const int rc = git_reference_create_matching(&raw_ref, repo.get(), branch_ref.c_str(), &commit_id, 1,
                                                 &tip_id, reflog.c_str());
    if (rc == GIT_EMODIFIED)
        return R::fail("cannot roll back '" + branch + "': the branch moved from " + oid_hex(&tip_id) +
                       " while the rollback was being written; nothing was changed");
    if (rc != 0) return R::fail("cannot update branch '" + branch + "': " + last_error());
    ReferencePtr updated(raw_ref);

    // 5. Bring the index and work tree along (checked in step 2; SAFE still refuses anything edited since).
    if (update_work_tree) {
        std::vector<std::string> conflicts;
        git_checkout_options checkout = checkout_options(tip_tree->get(), &conflicts, false);
        if (git_checkout_tree(repo.get(), reinterpret_cast<git_object*>(target_tree->get()), &checkout) != 0)
            return R::fail("branch '" + branch + "' now points at the rollback commit " + out.commit +
                           ", but the work tree of '" + repo_path + "' could not be updated" +
                           (conflicts.empty() ? "" : " (" + list_paths(conflicts) + ")") + ": " +
                           last_error());
    }
    return R::ok(std::move(out));
}

}  // namespace gitvisor::repo
