#include "daemon_bench_repo.h"

#include <git2.h>

#include <memory>
#include <stdexcept>

namespace gitvisor::bench {
namespace {

template <class T, void (*Free)(T*)>
struct GitDeleter {
    void operator()(T* p) const { Free(p); }
};
using Commit = std::unique_ptr<git_commit, GitDeleter<git_commit, git_commit_free>>;
using Tree = std::unique_ptr<git_tree, GitDeleter<git_tree, git_tree_free>>;
using TreeBuilder = std::unique_ptr<git_treebuilder, GitDeleter<git_treebuilder, git_treebuilder_free>>;
using Signature = std::unique_ptr<git_signature, GitDeleter<git_signature, git_signature_free>>;
using Reference = std::unique_ptr<git_reference, GitDeleter<git_reference, git_reference_free>>;

// Throws with libgit2's message when `code` is an error.
void check(int code, const std::string& what) {
    if (code >= 0) return;
    const git_error* e = git_error_last();
    throw std::runtime_error("cannot " + what + ": " + (e && e->message ? e->message : "libgit2 error"));
}

}  // namespace

UnitRepo::UnitRepo(const std::string& path, std::string branch)
    : m_branch_ref("refs/heads/" + std::move(branch)) {
    git_libgit2_init();
    check(git_repository_open(&m_repo, path.c_str()), "open repository '" + path + "'");
}

UnitRepo::~UnitRepo() {
    git_repository_free(m_repo);
    git_libgit2_shutdown();
}

UnitRepo::Landed UnitRepo::commit(const std::map<std::string, std::string>& files,
                                  const std::string& message) {
    // 1. The tree: one blob per distinct text (a thousand identical units share one), each written once
    //    per run: writing an existing loose object again would rewrite its file's time (libgit2's
    //    "freshen"), ten thousand inode updates per commit in a large repository.
    git_treebuilder* raw_builder = nullptr;
    check(git_treebuilder_new(&raw_builder, m_repo, nullptr), "make a tree");
    TreeBuilder builder(raw_builder);
    for (const auto& [name, text] : files) {
        auto blob = m_blobs.find(text);
        if (blob == m_blobs.end()) {
            git_oid id;
            check(git_blob_create_from_buffer(&id, m_repo, text.data(), text.size()), "write '" + name + "'");
            blob = m_blobs.emplace(text, id).first;
        }
        check(git_treebuilder_insert(nullptr, builder.get(), name.c_str(), &blob->second, GIT_FILEMODE_BLOB),
              "add '" + name + "'");
    }
    git_oid tree_id;
    check(git_treebuilder_write(&tree_id, builder.get()), "write the tree");
    git_tree* raw_tree = nullptr;
    check(git_tree_lookup(&raw_tree, m_repo, &tree_id), "read the tree");
    Tree tree(raw_tree);

    // 2. The commit object, on top of the tip, without moving the branch yet.
    git_oid tip_id;
    check(git_reference_name_to_id(&tip_id, m_repo, m_branch_ref.c_str()), "resolve " + m_branch_ref);
    git_commit* raw_parent = nullptr;
    check(git_commit_lookup(&raw_parent, m_repo, &tip_id), "read the tip");
    Commit parent(raw_parent);
    git_signature* raw_signature = nullptr;
    check(git_signature_now(&raw_signature, "gitvisor bench", "bench@gitvisor.invalid"), "make a signature");
    Signature signature(raw_signature);
    const git_commit* parents[] = {parent.get()};
    git_oid commit_id;
    check(git_commit_create(&commit_id, m_repo, nullptr, signature.get(), signature.get(), nullptr,
                            message.c_str(), tree.get(), 1, parents),
          "write the commit");

    // 3. The branch update, which is what gitvisord watches for: timed on both sides.
    Landed landed;
    landed.commit = git_oid_tostr_s(&commit_id);
    git_reference* raw_ref = nullptr;
    landed.ref_start = Clock::now();
    const int moved = git_reference_create_matching(&raw_ref, m_repo, m_branch_ref.c_str(), &commit_id, 1,
                                                    &tip_id, message.c_str());
    landed.ref_done = Clock::now();
    check(moved, "move " + m_branch_ref);
    Reference ref(raw_ref);
    return landed;
}

void UnitRepo::check_out_tip() {
    if (git_repository_is_bare(m_repo)) return;
    git_checkout_options options = GIT_CHECKOUT_OPTIONS_INIT;
    options.checkout_strategy = GIT_CHECKOUT_FORCE;
    check(git_checkout_head(m_repo, &options), "check out " + m_branch_ref);
}

}  // namespace gitvisor::bench
