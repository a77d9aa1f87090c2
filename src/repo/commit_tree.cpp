#include "repo/commit_tree.h"

#include <git2.h>

#include <memory>
#include <mutex>

namespace gitvisor::repo {
namespace {

// One process-wide libgit2 initialisation, never shut down (the library is used until exit).
void init_libgit2() {
    static std::once_flag once;
    std::call_once(once, [] { git_libgit2_init(); });
}

std::string last_error() {
    const git_error* e = git_error_last();
    return e && e->message ? e->message : "unknown libgit2 error";
}

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using RepoPtr = std::unique_ptr<git_repository, Deleter<git_repository, git_repository_free>>;
using ObjectPtr = std::unique_ptr<git_object, Deleter<git_object, git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, Deleter<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, Deleter<git_tree, git_tree_free>>;
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

struct WalkState {
    git_repository* repo;
    std::vector<unitfile::TreeFile>* files;
    std::string error;
};

int collect(const char* root, const git_tree_entry* entry, void* payload) {
    auto* state = static_cast<WalkState*>(payload);
    const git_filemode_t mode = git_tree_entry_filemode(entry);
    if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE && mode != GIT_FILEMODE_LINK) return 0;
    std::string path = std::string(root) + git_tree_entry_name(entry);
    if (!wanted(path)) return 0;
    git_blob* raw = nullptr;
    if (git_blob_lookup(&raw, state->repo, git_tree_entry_id(entry)) != 0) {
        state->error = "cannot read '" + path + "': " + last_error();
        return -1;
    }
    BlobPtr blob(raw);
    std::string content(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                        static_cast<size_t>(git_blob_rawsize(blob.get())));
    unitfile::TreeFile file;
    file.path = std::move(path);
    if (mode == GIT_FILEMODE_LINK) {
        file.is_symlink = true;
        file.symlink_target = std::move(content);
    } else {
        file.text = std::move(content);
    }
    state->files->push_back(std::move(file));
    return 0;
}

}  // namespace

Result<CommitTree> read_commit_tree(const std::string& repo_path, const std::string& revision) {
    init_libgit2();
    git_repository* raw_repo = nullptr;
    if (git_repository_open_ext(&raw_repo, repo_path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0)
        return Result<CommitTree>::fail("cannot open repository '" + repo_path + "': " + last_error());
    RepoPtr repo(raw_repo);

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
    WalkState state{repo.get(), &out.files, {}};
    if (git_tree_walk(tree.get(), GIT_TREEWALK_PRE, collect, &state) != 0)
        return Result<CommitTree>::fail(state.error.empty() ? "cannot walk the tree: " + last_error() : state.error);
    return Result<CommitTree>::ok(std::move(out));
}

}  // namespace gitvisor::repo
