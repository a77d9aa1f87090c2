#include "repo/rollback.h"

#include <git2.h>

#include <map>
#include <memory>

#include "repo_test_support.h"

using namespace gitvisor::testing;
using gitvisor::repo::commit_rollback;

namespace {

// units/ (non-bare, on main) with three commits:
//   first:  web.service=web 1, db.service=db 1
//   second: web.service=web 2
//   third:  web.service=web 3, cache.service added, db.service deleted
struct History {
    TempDir dir;
    std::filesystem::path work = dir / "units";
    std::string first, second, third;

    History() {
        std::filesystem::create_directories(work);
        git_ok(work, "init -q");
        first = commit_files(work, {{"web.service", "web 1\n"}, {"db.service", "db 1\n"}}, "first");
        second = commit_files(work, {{"web.service", "web 2\n"}}, "second");
        third = commit_files(
            work, {{"web.service", "web 3\n"}, {"cache.service", "cache 3\n"}, {"db.service", ""}}, "third");
    }

    std::string tip() const { return git_line(work, "rev-parse refs/heads/main"); }
    std::string read(const std::string& name) const {
        return std::filesystem::exists(work / name) ? slurp(work / name) : "(missing)";
    }
};

// Everything a refused rollback must leave as it was.
struct Snapshot {
    std::string tip, index, status, reflog;
    std::map<std::string, std::string> files;

    bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const History& h) {
    Snapshot s;
    s.tip = h.tip();
    s.index = slurp(h.work / ".git/index");
    s.status = git_ok(h.work, "status --porcelain --untracked-files=all");
    s.reflog = git_ok(h.work, "reflog show refs/heads/main");
    for (const auto& entry : std::filesystem::recursive_directory_iterator(h.work)) {
        const std::string relative = std::filesystem::relative(entry.path(), h.work).string();
        if (entry.is_regular_file() && !relative.starts_with(".git/"))
            s.files[relative] = slurp(entry.path());
    }
    return s;
}

std::string short_id(const std::filesystem::path& repo, const std::string& commit) {
    return git_line(repo, "rev-parse --short=7 " + commit);
}

}  // namespace

TEST_CASE("rollback two commits back restores that tree in a new commit on the branch", "[rollback]") {
    History h;
    const auto result = commit_rollback(h.work.string(), "main", "HEAD~2");
    REQUIRE(result.has_value());
    CHECK(result->target == h.first);
    CHECK(result->target_subject == "first");
    CHECK(result->message == "Roll back to " + short_id(h.work, h.first) + ": first");
    CHECK(result->commit.size() == 40);

    // The branch points at the new commit, whose tree is first's and whose parent is the old tip.
    CHECK(h.tip() == result->commit);
    CHECK(tree_of(h.work, result->commit) == tree_of(h.work, h.first));
    CHECK(git_line(h.work, "rev-parse " + result->commit + "^1") == h.third);
    CHECK(git_line(h.work, "rev-list --count " + result->commit) == "4");
    CHECK(git_line(h.work, "log -1 --format=%s " + result->commit) == result->message);
    CHECK(git_ok(h.work, "log -1 --format=%B " + result->commit) == result->message + "\n\n");
    CHECK(git_line(h.work, "log -1 --format='%an <%ae> %cn <%ce>' " + result->commit) ==
          "gitvisor <gitvisor@localhost> gitvisor <gitvisor@localhost>");
    CHECK(git_line(h.work, "reflog show -1 --format=%gs refs/heads/main") ==
          "gitvisor rollback: " + result->message);

    // The work tree follows: a changed file restored, an added one removed, a deleted one back.
    CHECK(h.read("web.service") == "web 1\n");
    CHECK(h.read("db.service") == "db 1\n");
    CHECK(h.read("cache.service") == "(missing)");
    // The index matches the new commit: git sees nothing to commit, and HEAD still names the branch.
    CHECK(git_ok(h.work, "status --porcelain --untracked-files=all").empty());
    CHECK(git_line(h.work, "symbolic-ref HEAD") == "refs/heads/main");
}

TEST_CASE("a rollback can itself be rolled back", "[rollback]") {
    History h;
    const auto back = commit_rollback(h.work.string(), "main", h.first);
    REQUIRE(back.has_value());
    const auto forth = commit_rollback(h.work.string(), "main", h.third);
    REQUIRE(forth.has_value());
    CHECK(git_line(h.work, "rev-parse " + forth->commit + "^1") == back->commit);
    CHECK(tree_of(h.work, forth->commit) == tree_of(h.work, h.third));
    CHECK(h.read("web.service") == "web 3\n");
    CHECK(h.read("cache.service") == "cache 3\n");
    CHECK(h.read("db.service") == "(missing)");
    CHECK(git_ok(h.work, "status --porcelain --untracked-files=all").empty());
}

TEST_CASE("rollback to the tip's own tree still records a commit", "[rollback]") {
    History h;
    const auto result = commit_rollback(h.work.string(), "main", "main");
    REQUIRE(result.has_value());
    CHECK(result->target == h.third);
    CHECK(result->message == "Roll back to " + short_id(h.work, h.third) + ": third");
    CHECK(h.tip() == result->commit);
    CHECK(result->commit != h.third);
    CHECK(git_line(h.work, "rev-parse " + result->commit + "^1") == h.third);
    CHECK(tree_of(h.work, result->commit) == tree_of(h.work, h.third));
    CHECK(git_ok(h.work, "status --porcelain --untracked-files=all").empty());
}

TEST_CASE("rollback takes a tag, an annotated tag, HEAD~1, main~1 and a unique prefix", "[rollback]") {
    History h;
    git_ok(h.work, "tag light " + h.second);
    git_ok(h.work, "tag -a -m 'release one' v1 " + h.first);

    SECTION("lightweight tag") {
        const auto result = commit_rollback(h.work.string(), "main", "light");
        REQUIRE(result.has_value());
        CHECK(result->target == h.second);
        CHECK(tree_of(h.work, "main") == tree_of(h.work, h.second));
    }
    SECTION("annotated tag, peeled to its commit") {
        const auto result = commit_rollback(h.work.string(), "main", "v1");
        REQUIRE(result.has_value());
        CHECK(result->target == h.first);
        CHECK(result->target_subject == "first");
        CHECK(tree_of(h.work, "main") == tree_of(h.work, h.first));
    }
    SECTION("HEAD~1") {
        const auto result = commit_rollback(h.work.string(), "main", "HEAD~1");
        REQUIRE(result.has_value());
        CHECK(result->target == h.second);
        CHECK(h.read("web.service") == "web 2\n");
        CHECK(h.read("db.service") == "db 1\n");
        CHECK(h.read("cache.service") == "(missing)");
    }
    SECTION("main~1") {
        const auto result = commit_rollback(h.work.string(), "main", "main~1");
        REQUIRE(result.has_value());
        CHECK(result->target == h.second);
    }
    SECTION("unique prefix") {
        const auto result = commit_rollback(h.work.string(), "main", h.first.substr(0, 10));
        REQUIRE(result.has_value());
        CHECK(result->target == h.first);
    }
    CHECK(git_ok(h.work, "status --porcelain --untracked-files=all").empty());
}

TEST_CASE("rollback in a bare repository moves the branch", "[rollback]") {
    History h;
    const std::filesystem::path bare = h.dir / "units.git";
    git_ok(h.dir.path(), "clone -q --bare units units.git");
    const auto result = commit_rollback(bare.string(), "main", "main~1");
    REQUIRE(result.has_value());
    CHECK(result->target == h.second);
    CHECK(git_line(bare, "rev-parse refs/heads/main") == result->commit);
    CHECK(git_line(bare, "rev-parse main^1") == h.third);
    CHECK(tree_of(bare, "main") == tree_of(bare, h.second));
    CHECK(git_line(bare, "log -1 --format=%s main") ==
          "Roll back to " + short_id(bare, h.second) + ": second");
    CHECK(h.tip() == h.third);  // the repository it was cloned from is another repository
}

TEST_CASE("a branch other than the checked-out one moves without touching the work tree", "[rollback]") {
    History h;
    git_ok(h.work, "branch other " + h.second);
    const auto result = commit_rollback(h.work.string(), "other", h.first);
    REQUIRE(result.has_value());
    CHECK(git_line(h.work, "rev-parse refs/heads/other") == result->commit);
    CHECK(tree_of(h.work, "other") == tree_of(h.work, h.first));
    CHECK(h.tip() == h.third);
    CHECK(h.read("web.service") == "web 3\n");
    CHECK(git_ok(h.work, "status --porcelain --untracked-files=all").empty());
}

TEST_CASE("a modified tracked file refuses the rollback and nothing changes", "[rollback]") {
    History h;
    std::ofstream(h.work / "web.service", std::ios::binary) << "web 3, edited\n";
    const Snapshot before = snapshot(h);
    const auto result = commit_rollback(h.work.string(), "main", "HEAD~2");
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() == "the work tree of '" + h.work.string() +
                                "' has uncommitted changes (web.service): commit or discard them first");
    CHECK(snapshot(h) == before);
    CHECK(h.read("web.service") == "web 3, edited\n");
}

TEST_CASE("a staged change refuses the rollback and nothing changes", "[rollback]") {
    History h;
    std::ofstream(h.work / "cache.service", std::ios::binary) << "cache 3, staged\n";
    git_ok(h.work, "add cache.service");
    const Snapshot before = snapshot(h);
    const auto result = commit_rollback(h.work.string(), "main", "HEAD~2");
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() == "the work tree of '" + h.work.string() +
                                "' has uncommitted changes (cache.service): commit or discard them first");
    CHECK(snapshot(h) == before);
    CHECK(git_line(h.work, "diff --cached --name-only") == "cache.service");
}

TEST_CASE("a deleted tracked file refuses the rollback", "[rollback]") {
    History h;
    std::filesystem::remove(h.work / "cache.service");
    const Snapshot before = snapshot(h);
    const auto result = commit_rollback(h.work.string(), "main", "HEAD~1");
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() == "the work tree of '" + h.work.string() +
                                "' has uncommitted changes (cache.service): commit or discard them first");
    CHECK(snapshot(h) == before);
}

TEST_CASE("the refusal lists five paths and counts the rest", "[rollback]") {
    History h;
    std::map<std::string, std::string> files;
    for (char c = 'a'; c <= 'g'; ++c) files[std::string(1, c) + ".service"] = "v1\n";
    commit_files(h.work, files, "seven units");
    for (const auto& [name, text] : files) std::ofstream(h.work / name, std::ios::binary) << "v2\n";
    const auto result = commit_rollback(h.work.string(), "main", "HEAD~1");
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() ==
          "the work tree of '" + h.work.string() +
              "' has uncommitted changes (a.service, b.service, c.service, d.service, e.service "
              "and 2 more): commit or discard them first");
}

TEST_CASE("an untracked file elsewhere is allowed and kept", "[rollback]") {
    History h;
    std::ofstream(h.work / "notes.txt", std::ios::binary) << "mine\n";
    std::filesystem::create_directories(h.work / "scratch");
    std::ofstream(h.work / "scratch/draft.service", std::ios::binary) << "draft\n";
    const auto result = commit_rollback(h.work.string(), "main", "HEAD~2");
    REQUIRE(result.has_value());
    CHECK(tree_of(h.work, "main") == tree_of(h.work, h.first));
    CHECK(h.read("notes.txt") == "mine\n");
    CHECK(h.read("scratch/draft.service") == "draft\n");
    CHECK(h.read("web.service") == "web 1\n");
    const std::string status = git_ok(h.work, "status --porcelain --untracked-files=all");
    CHECK(status == "?? notes.txt\n?? scratch/draft.service\n");
}

TEST_CASE("an untracked file where the rollback would write refuses it and nothing changes", "[rollback]") {
    History h;
    std::ofstream(h.work / "db.service", std::ios::binary) << "db, not committed\n";
    const Snapshot before = snapshot(h);
    const auto result = commit_rollback(h.work.string(), "main", h.first);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() ==
          "the work tree of '" + h.work.string() +
              "' has untracked files the rollback would overwrite (db.service): move or remove "
              "them first");
    CHECK(snapshot(h) == before);
    CHECK(h.read("db.service") == "db, not committed\n");
}

TEST_CASE("an unknown revision is an error and nothing changes", "[rollback]") {
    History h;
    const Snapshot before = snapshot(h);
    const auto result = commit_rollback(h.work.string(), "main", "nope");
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().starts_with("cannot resolve 'nope': "));
    CHECK(result.error().size() > std::string("cannot resolve 'nope': ").size());
    CHECK(snapshot(h) == before);
}

TEST_CASE("an ambiguous prefix is an error and nothing changes", "[rollback]") {
    History h;
    // Blobs until two ids share their first 4 hex digits (libgit2's shortest prefix): certain within a few
    // thousand, and the same every run because the contents are fixed.
    git_libgit2_init();
    git_repository* raw = nullptr;
    REQUIRE(git_repository_open(&raw, h.work.c_str()) == 0);
    const std::unique_ptr<git_repository, void (*)(git_repository*)> repo(raw, git_repository_free);
    std::map<std::string, std::string> by_prefix;
    std::string ambiguous;
    for (int i = 0; i < 20000 && ambiguous.empty(); ++i) {
        const std::string text = "blob " + std::to_string(i) + "\n";
        git_oid id;
        REQUIRE(git_blob_create_from_buffer(&id, repo.get(), text.data(), text.size()) == 0);
        char hex[GIT_OID_HEXSZ + 1] = {};
        git_oid_tostr(hex, sizeof hex, &id);
        const std::string prefix(hex, 4);
        if (!by_prefix.emplace(prefix, hex).second) ambiguous = prefix;
    }
    REQUIRE_FALSE(ambiguous.empty());

    const Snapshot before = snapshot(h);
    const auto result = commit_rollback(h.work.string(), "main", ambiguous);
    REQUIRE_FALSE(result.has_value());
    INFO(result.error());
    CHECK(result.error().starts_with("cannot resolve '" + ambiguous + "': "));
    CHECK(result.error().find("ambiguous") != std::string::npos);
    CHECK(snapshot(h) == before);
}

TEST_CASE("a revision that is not a commit is an error", "[rollback]") {
    History h;
    const std::string blob = git_line(h.work, "rev-parse HEAD:web.service");
    const Snapshot before = snapshot(h);
    const auto result = commit_rollback(h.work.string(), "main", blob);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().starts_with("'" + blob + "' is not a commit: "));
    CHECK(snapshot(h) == before);
}

TEST_CASE("a missing branch or repository is an error", "[rollback]") {
    History h;
    const auto no_branch = commit_rollback(h.work.string(), "release", "HEAD~1");
    REQUIRE_FALSE(no_branch.has_value());
    CHECK(no_branch.error().starts_with("cannot resolve branch 'release': "));
    CHECK(h.tip() == h.third);

    const std::string missing = (h.dir / "missing").string();
    const auto no_repo = commit_rollback(missing, "main", "HEAD~1");
    REQUIRE_FALSE(no_repo.has_value());
    CHECK(no_repo.error().starts_with("cannot open repository '" + missing + "': "));
}

TEST_CASE("a branch locked by another writer is not moved and the work tree is untouched", "[rollback]") {
    History h;
    // git holds refs/heads/main.lock while it updates the branch: the rollback must fail, not wait or
    // clobber.
    std::ofstream(h.work / ".git/refs/heads/main.lock") << h.second << "\n";
    const auto result = commit_rollback(h.work.string(), "main", "HEAD~2");
    std::filesystem::remove(h.work / ".git/refs/heads/main.lock");
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().starts_with("cannot update branch 'main': "));
    CHECK(h.tip() == h.third);
    CHECK(h.read("web.service") == "web 3\n");
    CHECK(git_ok(h.work, "status --porcelain --untracked-files=all").empty());
}
