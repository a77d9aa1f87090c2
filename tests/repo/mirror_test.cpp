#include "repo/mirror.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "../git_daemon_support.h"
#include "repo_test_support.h"

using namespace gitvisor::testing;
using gitvisor::repo::fetch_branch;
using gitvisor::repo::FetchOptions;

namespace {

// remote.git (bare, what the daemon fetches from) fed by pushes from work/; the mirror is not made yet.
struct Remote {
    TempDir dir;
    std::filesystem::path bare = dir / "remote.git";
    std::filesystem::path work = dir / "work";
    std::filesystem::path mirror = dir / "state/mirror.git";
    std::string url = "file://" + bare.string();

    Remote() {
        git_ok(dir.path(), "init -q --bare remote.git");
        std::filesystem::create_directories(work);
        git_ok(work, "init -q");
        git_ok(work, "remote add origin " + shell_quote(bare.string()));
        push("web.service", "web 1\n", "first");
    }

    // Commits `name` with `text` in work/ and pushes main; returns the commit.
    std::string push(const std::string& name, const std::string& text, const std::string& message) const {
        const std::string commit = commit_files(work, {{name, text}}, message);
        git_ok(work, "push -q origin main");
        return commit;
    }

    FetchOptions options() const {
        FetchOptions o;
        o.url = url;
        return o;
    }
    std::string mirror_ref(const std::string& ref = "refs/heads/main") const {
        const CommandResult r = run(git() + " rev-parse --verify -q " + ref, mirror);
        return r.out.substr(0, r.out.find('\n'));
    }
};

}  // namespace

TEST_CASE("the first fetch creates the mirror and gives the tip", "[mirror]") {
    Remote r;
    const std::string first = git_line(r.work, "rev-parse HEAD");
    REQUIRE_FALSE(std::filesystem::exists(r.mirror));
    const auto result = fetch_branch(r.mirror.string(), r.options());
    REQUIRE(result.has_value());
    CHECK(result->tip == first);
    CHECK(result->previous_tip.empty());
    CHECK_FALSE(result->history_rewritten);

    CHECK(git_line(r.mirror, "rev-parse --is-bare-repository") == "true");
    CHECK(r.mirror_ref() == first);
    CHECK(git_line(r.mirror, "config remote.origin.url") == r.url);
    CHECK(git_line(r.mirror, "symbolic-ref HEAD") == "refs/heads/main");
    CHECK(git_line(r.mirror, "show main:web.service") == "web 1");
    // Only the deployed branch is written: no remote-tracking refs.
    CHECK(git_ok(r.mirror, "for-each-ref --format='%(refname)'") == "refs/heads/main\n");

    SECTION("fetching again with nothing new gives the same tip") {
        const auto again = fetch_branch(r.mirror.string(), r.options());
        REQUIRE(again.has_value());
        CHECK(again->tip == first);
        CHECK(again->previous_tip == first);
        CHECK_FALSE(again->history_rewritten);
    }
}

TEST_CASE("a new commit pushed to the remote is fetched", "[mirror]") {
    Remote r;
    const std::string first = git_line(r.work, "rev-parse HEAD");
    REQUIRE(fetch_branch(r.mirror.string(), r.options()).has_value());
    r.push("web.service", "web 2\n", "second");
    const std::string third = r.push("db.service", "db 1\n", "third");

    const auto result = fetch_branch(r.mirror.string(), r.options());
    REQUIRE(result.has_value());
    CHECK(result->tip == third);
    CHECK(result->previous_tip == first);
    CHECK_FALSE(result->history_rewritten);
    CHECK(r.mirror_ref() == third);
    CHECK(git_line(r.mirror, "show main:web.service") == "web 2");
}

TEST_CASE("a force-push is taken and reported as rewritten history", "[mirror]") {
    Remote r;
    r.push("web.service", "web 2\n", "second");
    const auto before = fetch_branch(r.mirror.string(), r.options());
    REQUIRE(before.has_value());

    git_ok(r.work, "reset -q --hard HEAD~1");
    const std::string rewritten =
        commit_files(r.work, {{"web.service", "web 2, amended\n"}}, "second, rewritten");
    git_ok(r.work, "push -q --force origin main");

    const auto result = fetch_branch(r.mirror.string(), r.options());
    REQUIRE(result.has_value());
    CHECK(result->tip == rewritten);
    CHECK(result->previous_tip == before->tip);
    CHECK(result->history_rewritten);
    CHECK(r.mirror_ref() == rewritten);
    CHECK(git_line(r.mirror, "show main:web.service") == "web 2, amended");
}

TEST_CASE("tags pointing into the fetched history come along", "[mirror]") {
    Remote r;
    const std::string first = git_line(r.work, "rev-parse HEAD");
    r.push("web.service", "web 2\n", "second");
    git_ok(r.work, "tag -a -m 'release one' v1 " + first);
    git_ok(r.work, "push -q origin v1");
    REQUIRE(fetch_branch(r.mirror.string(), r.options()).has_value());
    CHECK(git_line(r.mirror, "rev-parse v1^{commit}") == first);
}

TEST_CASE("a missing branch is an error and leaves the mirror's ref untouched", "[mirror]") {
    Remote r;
    const auto first = fetch_branch(r.mirror.string(), r.options());
    REQUIRE(first.has_value());
    r.push("web.service", "web 2\n", "second");

    FetchOptions options = r.options();
    options.branch = "release";
    const auto result = fetch_branch(r.mirror.string(), options);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() ==
          "cannot fetch 'release' from '" + r.url + "': the remote has no branch 'release'");
    CHECK(r.mirror_ref() == first->tip);
    CHECK(r.mirror_ref("refs/heads/release").empty());
    CHECK(git_ok(r.mirror, "for-each-ref --format='%(refname)'") == "refs/heads/main\n");
}

TEST_CASE("an unreachable url is an error and leaves the mirror's ref untouched", "[mirror]") {
    Remote r;
    const auto first = fetch_branch(r.mirror.string(), r.options());
    REQUIRE(first.has_value());

    FetchOptions options = r.options();
    SECTION("a file:// path that does not exist") {
        options.url = "file://" + (r.dir / "nowhere.git").string();
    }
    SECTION("a git:// port nothing listens on") {
        options.url = "git://127.0.0.1:" + std::to_string(free_port()) + "/remote.git";
    }
    const auto result = fetch_branch(r.mirror.string(), options);
    REQUIRE_FALSE(result.has_value());
    const std::string prefix = "cannot fetch 'main' from '" + options.url + "': ";
    INFO(result.error());
    CHECK(result.error().starts_with(prefix));
    CHECK(result.error().size() > prefix.size());
    CHECK(r.mirror_ref() == first->tip);
}

TEST_CASE("a changed url replaces origin's and a local path works as a url", "[mirror]") {
    Remote r;
    REQUIRE(fetch_branch(r.mirror.string(), r.options()).has_value());
    git_ok(r.dir.path(), "clone -q --bare remote.git moved.git");
    const std::string moved_tip = commit_files(r.work, {{"web.service", "web 3\n"}}, "on the new remote");
    git_ok(r.work, "push -q " + shell_quote((r.dir / "moved.git").string()) + " main");

    FetchOptions options = r.options();
    options.url = (r.dir / "moved.git").string();
    const auto result = fetch_branch(r.mirror.string(), options);
    REQUIRE(result.has_value());
    CHECK(result->tip == moved_tip);
    CHECK_FALSE(result->history_rewritten);
    CHECK(git_line(r.mirror, "config remote.origin.url") == options.url);
    CHECK(git_ok(r.mirror, "config --get-all remote.origin.url") == options.url + "\n");
}

TEST_CASE("bad options are errors before anything is written", "[mirror]") {
    Remote r;
    FetchOptions options = r.options();
    std::string expected;
    SECTION("an invalid branch name") {
        options.branch = "a..b";
        expected = "cannot fetch 'a..b' from '" + r.url + "': 'a..b' is not a valid branch name";
    }
    SECTION("a refspec smuggled in as a branch") {
        options.branch = "main:refs/heads/other";
        expected = "cannot fetch 'main:refs/heads/other' from '" + r.url +
                   "': 'main:refs/heads/other' is not a valid branch name";
    }
    SECTION("a token file that cannot be read") {
        options.token_file = (r.dir / "no-token").string();
        expected =
            "cannot fetch 'main' from '" + r.url + "': cannot read token file '" + options.token_file + "'";
    }
    SECTION("an ssh key that cannot be read") {
        options.ssh_key_file = (r.dir / "no-key").string();
        expected =
            "cannot fetch 'main' from '" + r.url + "': cannot read ssh key '" + options.ssh_key_file + "'";
    }
    const auto result = fetch_branch(r.mirror.string(), options);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() == expected);
    CHECK_FALSE(std::filesystem::exists(r.mirror));
}

TEST_CASE("a token file does not get in the way of a remote that asks for no credentials", "[mirror]") {
    Remote r;
    r.dir.write("token", "user:secret\n");
    FetchOptions options = r.options();
    options.token_file = (r.dir / "token").string();
    const auto result = fetch_branch(r.mirror.string(), options);
    REQUIRE(result.has_value());
    CHECK(result->tip == git_line(r.work, "rev-parse HEAD"));
}

TEST_CASE("a mirror path holding a non-bare repository is refused", "[mirror]") {
    Remote r;
    const auto result = fetch_branch(r.work.string(), r.options());
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() == "cannot use '" + r.work.string() + "' as a mirror: not a bare repository");
}

TEST_CASE("fetch over git:// from git daemon on 127.0.0.1", "[mirror]") {
    if (!have_git_daemon()) {
        WARN("skipped: git daemon is not installed");
        return;
    }
    Remote r;
    const int port = free_port();
    GitDaemon daemon(r.dir.path(), port, r.dir / "daemon.log");
    const bool ready = daemon.ready();
    INFO("git daemon: " << slurp(r.dir / "daemon.log"));
    REQUIRE(ready);

    FetchOptions options = r.options();
    options.url = "git://127.0.0.1:" + std::to_string(port) + "/remote.git";
    const auto first = fetch_branch(r.mirror.string(), options);
    REQUIRE(first.has_value());
    CHECK(first->tip == git_line(r.work, "rev-parse HEAD"));
    CHECK(first->previous_tip.empty());
    CHECK(git_line(r.mirror, "config remote.origin.url") == options.url);

    const std::string second = r.push("web.service", "web 2\n", "second");
    const auto next = fetch_branch(r.mirror.string(), options);
    REQUIRE(next.has_value());
    CHECK(next->tip == second);
    CHECK(next->previous_tip == first->tip);
    CHECK_FALSE(next->history_rewritten);
    CHECK(git_line(r.mirror, "show main:web.service") == "web 2");
}
