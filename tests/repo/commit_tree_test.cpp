#include "repo/commit_tree.h"

#include <algorithm>

#include "repo_test_support.h"

using namespace gitvisor::testing;
using gitvisor::repo::BlobCache;
using gitvisor::repo::read_commit_tree;

namespace {

std::string text_of(const gitvisor::repo::CommitTree& tree, const std::string& path) {
    for (const auto& f : tree.files)
        if (f.path == path) return f.text;
    return "<missing>";
}

}  // namespace

TEST_CASE("a blob cache reads only the blobs a commit changed", "[commit_tree]") {
    TempDir dir;
    const std::filesystem::path repo = dir / "units";
    std::filesystem::create_directories(repo);
    git_ok(repo, "init -q");
    commit_files(repo, {{"a.service", "a 1\n"}, {"b.service", "b 1\n"}}, "first");
    BlobCache cache;
    auto first = read_commit_tree(repo.string(), "HEAD", &cache);
    REQUIRE(first.has_value());
    CHECK(cache.blobs.size() == 2);
    CHECK(first->author == "gitvisor-test <test@gitvisor.invalid>");

    commit_files(repo, {{"b.service", "b 2\n"}}, "second");
    // a.service's blob leaves the object database: only the cache still has it.
    const std::string a_blob = git_line(repo, "rev-parse HEAD:a.service");
    std::filesystem::remove(repo / ".git/objects" / a_blob.substr(0, 2) / a_blob.substr(2));
    CHECK_FALSE(read_commit_tree(repo.string(), "HEAD").has_value());
    auto second = read_commit_tree(repo.string(), "HEAD", &cache);
    REQUIRE(second.has_value());
    CHECK(text_of(*second, "a.service") == "a 1\n");
    CHECK(text_of(*second, "b.service") == "b 2\n");
    CHECK(cache.blobs.size() == 2);  // b's first version is gone from it
}
