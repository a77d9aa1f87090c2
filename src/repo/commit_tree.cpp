#include "repo/commit_tree.h"

#include <git2.h>

#include <cstdlib>
#include <memory>

#include "repo/git_handles.h"

namespace gitvisor::repo {
namespace {

using detail::CommitPtr;
using detail::init_libgit2;
using detail::last_error;
using detail::ObjectPtr;
using detail::RepoPtr;
using detail::TreePtr;
using detail::Deleter;
using BlobPtr = std::unique_ptr<git_blob, Deleter<git_blob, git_blob_free>>;

bool wanted(std::string_view path) {
    if (path == "gitvisor.ini") return true;
    if (path.ends_with(".service")) return true;
    if (path.ends_with(".conf")) {
        const size_t slash = path.rfind('/');
        return slash != std::string_view::npos && path.substr(0, slash).ends_with(".d");
    }
    return false;
}

// Adds one blob of the tree (or index) when it is a file gitvisor reads.
bool add_blob(git_repository* repo, std::string path, git_filemode_t mode, const git_oid* id,
              std::vector<unitfile::TreeFile>& files, std::string& error, BlobCache* cache = nullptr) {
    if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE && mode != GIT_FILEMODE_LINK) return true;
    if (!wanted(path)) return true;
    const std::string key(reinterpret_cast<const char*>(id->id), GIT_OID_RAWSZ);
    std::string content;
    BlobCache::Blob* cached = nullptr;
    if (cache)
        if (auto hit = cache->blobs.find(key); hit != cache->blobs.end()) cached = &hit->second;
    if (cached) {
        content = cached->content;
        cached->read = cache->reads;
    } else {
        git_blob* raw = nullptr;
        if (git_blob_lookup(&raw, repo, id) != 0) {
            error = "cannot read '" + path + "': " + last_error();
            return false;
        }
        BlobPtr blob(raw);
        content.assign(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                       static_cast<size_t>(git_blob_rawsize(blob.get())));
    }
    if (cache && !cached) cache->blobs.emplace(key, BlobCache::Blob{content, cache->reads});
    unitfile::TreeFile file;
    file.path = std::move(path);
    file.blob_id = key;
    if (mode == GIT_FILEMODE_LINK) {
        file.is_symlink = true;
        file.symlink_target = std::move(content);
    } else {
        file.text = std::move(content);
    }
    files.push_back(std::move(file));
    return true;
}

struct WalkState {
    git_repository* repo;
    std::vector<unitfile::TreeFile>* files;
    std::string error;
    BlobCache* cache = nullptr;
};

int collect(const char* root, const git_tree_entry* entry, void* payload) {
    auto* state = static_cast<WalkState*>(payload);
    const bool ok = add_blob(state->repo, std::string(root) + git_tree_entry_name(entry),
                             git_tree_entry_filemode(entry), git_tree_entry_id(entry), *state->files, state->error,
                             state->cache);
    return ok ? 0 : -1;
}

// In a git hook (pre-receive, update) pushed objects sit in a quarantine that only the environment names;
// there the repository is opened from GIT_DIR and the object directories git exported.
Result<RepoPtr> open_repository(const std::string& repo_path) {
    init_libgit2();
    git_repository* raw = nullptr;
    const bool in_hook = std::getenv("GIT_QUARANTINE_PATH") != nullptr && std::getenv("GIT_DIR") != nullptr;
    const int rc = in_hook ? git_repository_open_ext(&raw, nullptr, GIT_REPOSITORY_OPEN_FROM_ENV, nullptr)
                           : git_repository_open_ext(&raw, repo_path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
    if (rc != 0) return Result<RepoPtr>::fail("cannot open repository '" + repo_path + "': " + last_error());
    return Result<RepoPtr>::ok(RepoPtr(raw));
}

}  // namespace

Result<CommitTree> read_commit_tree(const std::string& repo_path, const std::string& revision, BlobCache* cache) {
    Result<RepoPtr> opened = open_repository(repo_path);
    if (!opened) return Result<CommitTree>::fail(opened.error());
    RepoPtr repo = std::move(*opened);

    git_object* raw_object = nullptr;
    if (git_revparse_single(&raw_object, repo.get(), revision.c_str()) != 0)
        return Result<CommitTree>::fail("cannot resolve '" + revision + "': " + last_error());
    ObjectPtr object(raw_object);
    git_object* raw_peeled = nullptr;
    if (git_object_peel(&raw_peeled, object.get(), GIT_OBJECT_COMMIT) != 0)
        return Result<CommitTree>::fail("'" + revision + "' is not a commit: " + last_error());
    CommitPtr commit(reinterpret_cast<git_commit*>(raw_peeled));

    git_tree* raw_tree = nullptr;
    if (git_commit_tree(&raw_tree, commit.get()) != 0)
        return Result<CommitTree>::fail("cannot read the tree of '" + revision + "': " + last_error());
    TreePtr tree(raw_tree);

    CommitTree out;
    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, git_commit_id(commit.get()));
    out.commit = hex;
    if (const char* summary = git_commit_summary(commit.get())) out.subject = summary;
    if (const git_signature* author = git_commit_author(commit.get()))
        out.author = std::string(author->name ? author->name : "") + " <" + (author->email ? author->email : "") + ">";
    if (cache) ++cache->reads;
    out.files.reserve(cache ? cache->blobs.size() : 0);
    WalkState state{repo.get(), &out.files, {}, cache};
    if (git_tree_walk(tree.get(), GIT_TREEWALK_PRE, collect, &state) != 0)
        return Result<CommitTree>::fail(state.error.empty() ? "cannot walk the tree: " + last_error() : state.error);
    // The cache keeps just this commit's blobs: what the next commit most likely shares.
    if (cache) std::erase_if(cache->blobs, [&](const auto& entry) { return entry.second.read != cache->reads; });
    return Result<CommitTree>::ok(std::move(out));
}

}  // namespace gitvisor::repo

namespace gitvisor::repo {

Result<CommitTree> read_staged_tree(const std::string& repo_path) {
    Result<RepoPtr> opened = open_repository(repo_path);
    if (!opened) return Result<CommitTree>::fail(opened.error());
    RepoPtr repo = std::move(*opened);
    git_index* raw_index = nullptr;
    if (git_repository_index(&raw_index, repo.get()) != 0)
        return Result<CommitTree>::fail("cannot read the index of '" + repo_path + "': " + last_error());
    std::unique_ptr<git_index, Deleter<git_index, git_index_free>> index(raw_index);
    CommitTree out;
    out.subject = "(staged changes)";
    std::string error;
    const size_t count = git_index_entrycount(index.get());
    for (size_t i = 0; i < count; ++i) {
        const git_index_entry* e = git_index_get_byindex(index.get(), i);
        if (!e || git_index_entry_stage(e) != 0) continue;  // unmerged entries: the conflict is git's to report
        if (!add_blob(repo.get(), e->path, static_cast<git_filemode_t>(e->mode), &e->id, out.files, error))
            return Result<CommitTree>::fail(error);
    }
    return Result<CommitTree>::ok(std::move(out));
}

}  // namespace gitvisor::repo

namespace gitvisor::repo {

Result<std::string> resolve_branch(const std::string& repo_path, const std::string& branch) {
    Result<RepoPtr> opened = open_repository(repo_path);
    if (!opened) return Result<std::string>::fail(opened.error());
    git_oid oid;
    const std::string ref = "refs/heads/" + branch;
    if (git_reference_name_to_id(&oid, opened->get(), ref.c_str()) != 0)
        return Result<std::string>::fail("cannot resolve branch '" + branch + "': " + last_error());
    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, &oid);
    return Result<std::string>::ok(hex);
}

std::vector<CommitSummary> commits_between(const std::string& repo_path, const std::string& ancestor,
                                           const std::string& tip, size_t limit) {
    git_oid ancestor_id;
    git_oid tip_id;
    if (git_oid_fromstr(&ancestor_id, ancestor.c_str()) != 0 || git_oid_fromstr(&tip_id, tip.c_str()) != 0) return {};
    Result<RepoPtr> opened = open_repository(repo_path);
    if (!opened) return {};
    std::vector<CommitSummary> newest_first;
    git_commit* raw = nullptr;
    if (git_commit_lookup(&raw, opened->get(), &tip_id) != 0) return {};
    CommitPtr commit(raw);
    for (size_t walked = 0; walked <= limit; ++walked) {
        if (git_commit_parentcount(commit.get()) == 0) return {};  // the root, without meeting `ancestor`
        git_commit* raw_parent = nullptr;
        if (git_commit_parent(&raw_parent, commit.get(), 0) != 0) return {};
        commit.reset(raw_parent);
        if (git_oid_equal(git_commit_id(commit.get()), &ancestor_id)) {
            return {newest_first.rbegin(), newest_first.rend()};
        }
        char hex[GIT_OID_HEXSZ + 1] = {};
        git_oid_tostr(hex, sizeof hex, git_commit_id(commit.get()));
        const char* summary = git_commit_summary(commit.get());
        newest_first.push_back({hex, summary ? summary : ""});
    }
    return {};
}

Result<std::string> resolve_revision(const std::string& repo_path, const std::string& revision) {
    Result<RepoPtr> opened = open_repository(repo_path);
    if (!opened) return Result<std::string>::fail(opened.error());
    git_object* raw_object = nullptr;
    if (git_revparse_single(&raw_object, opened->get(), revision.c_str()) != 0)
        return Result<std::string>::fail("cannot resolve '" + revision + "': " + last_error());
    ObjectPtr object(raw_object);
    git_object* raw_peeled = nullptr;
    if (git_object_peel(&raw_peeled, object.get(), GIT_OBJECT_COMMIT) != 0)
        return Result<std::string>::fail("'" + revision + "' is not a commit: " + last_error());
    ObjectPtr commit(raw_peeled);
    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, git_object_id(commit.get()));
    return Result<std::string>::ok(hex);
}

Result<std::string> git_dir(const std::string& repo_path) {
    Result<RepoPtr> opened = open_repository(repo_path);
    if (!opened) return Result<std::string>::fail(opened.error());
    return Result<std::string>::ok(git_repository_path(opened->get()));
}

}  // namespace gitvisor::repo

namespace gitvisor::repo {

Result<std::string> init_repository(const std::string& path, bool bare, const std::string& branch) {
    init_libgit2();
    git_repository* probe = nullptr;
    if (git_repository_open_ext(&probe, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) == 0) {
        git_repository_free(probe);
        return Result<std::string>::fail("'" + path + "' is already a git repository");
    }
    git_repository_init_options options = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    options.flags = GIT_REPOSITORY_INIT_MKPATH | (bare ? GIT_REPOSITORY_INIT_BARE : 0);
    const std::string head = "refs/heads/" + branch;
    options.initial_head = branch.c_str();
    git_repository* raw = nullptr;
    if (git_repository_init_ext(&raw, path.c_str(), &options) != 0)
        return Result<std::string>::fail("cannot create repository '" + path + "': " + last_error());
    RepoPtr repo(raw);
    git_treebuilder* builder = nullptr;
    git_oid tree_id, commit_id;
    if (git_treebuilder_new(&builder, repo.get(), nullptr) != 0 || git_treebuilder_write(&tree_id, builder) != 0) {
        git_treebuilder_free(builder);
        return Result<std::string>::fail("cannot write the first tree: " + last_error());
    }
    git_treebuilder_free(builder);
    git_tree* raw_tree = nullptr;
    git_signature* signature = nullptr;
    if (git_tree_lookup(&raw_tree, repo.get(), &tree_id) != 0 ||
        git_signature_now(&signature, "gitvisor", "gitvisor@localhost") != 0)
        return Result<std::string>::fail("cannot prepare the first commit: " + last_error());
    TreePtr tree(raw_tree);
    const int rc = git_commit_create_v(&commit_id, repo.get(), head.c_str(), signature, signature, nullptr,
                                       "Initialise gitvisor unit repository", tree.get(), 0);
    git_signature_free(signature);
    if (rc != 0) return Result<std::string>::fail("cannot write the first commit: " + last_error());
    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, &commit_id);
    return Result<std::string>::ok(hex);
}

}  // namespace gitvisor::repo
