// fetch_branch over http:// (smart HTTP) from `git http-backend` behind HTTP Basic authentication on
// 127.0.0.1 (tests/git_http_server.py), with a token file. https:// is the same exchange through libgit2's
// TLS.

#include <optional>

#include "../git_http_server_support.h"
#include "../scoped_env.h"
#include "repo/mirror.h"
#include "repo_test_support.h"

using namespace gitvisor::testing;
using gitvisor::repo::fetch_branch;
using gitvisor::repo::FetchOptions;

namespace {

// repo/remote.git (bare, with main) fed by pushes from work/, served over HTTP to a client that sends
// `credentials`; the mirror is not made yet.
struct HttpRemote {
    TempDir dir;
    std::filesystem::path root = dir / "repo";
    std::filesystem::path bare = root / "remote.git";
    std::filesystem::path work = dir / "work";
    std::filesystem::path mirror = dir / "state/mirror.git";
    GitHttpServer server;
    // The remote is on 127.0.0.1: a proxy from the environment must not get the requests.
    ScopedEnv no_http_proxy{"http_proxy", std::nullopt};
    ScopedEnv no_http_proxy_upper{"HTTP_PROXY", std::nullopt};

    explicit HttpRemote(const std::string& credentials) : server(root, credentials, dir.path()) {
        std::filesystem::create_directories(root);
        git_ok(root, "init -q --bare remote.git");
        std::filesystem::create_directories(work);
        git_ok(work, "init -q");
        git_ok(work, "remote add origin " + shell_quote(bare.string()));
        push("web.service", "web 1\n", "first");
        const bool ready = server.ready();
        INFO("server: " << server.log());
        REQUIRE(ready);
    }

    std::string push(const std::string& name, const std::string& text, const std::string& message) const {
        const std::string commit = commit_files(work, {{name, text}}, message);
        git_ok(work, "push -q origin main");
        return commit;
    }
    // Options with a token file holding `token`, or none when it is empty.
    FetchOptions options(const std::string& token) const {
        FetchOptions o;
        o.url = server.url("remote.git");
        if (!token.empty()) {
            dir.write("token", token + "\n");
            o.token_file = (dir / "token").string();
        }
        return o;
    }
    std::string mirror_ref() const {
        const CommandResult r = run(git() + " rev-parse --verify -q refs/heads/main", mirror);
        return r.out.substr(0, r.out.find('\n'));
    }
};

bool skipped() {
    if (have_git_http_backend()) return false;
    WARN("skipped: needs " << kPython << " and git http-backend");
    return true;
}

}  // namespace

TEST_CASE("fetch over http:// with a token file", "[mirror][http]") {
    if (skipped()) return;
    std::string credentials, token;
    SECTION("user:token in the file") { credentials = token = "deployer:secret"; }
    SECTION("a bare token is sent as user x-access-token") {
        credentials = "x-access-token:secret";
        token = "secret";
    }
    HttpRemote r(credentials);
    const FetchOptions options = r.options(token);
    const auto first = fetch_branch(r.mirror.string(), options);
    INFO("server: " << r.server.log());
    REQUIRE(first.has_value());
    CHECK(first->tip == git_line(r.work, "rev-parse HEAD"));
    CHECK(first->previous_tip.empty());
    CHECK(r.mirror_ref() == first->tip);
    CHECK(git_line(r.mirror, "config remote.origin.url") == options.url);
    CHECK(git_line(r.mirror, "show main:web.service") == "web 1");
    // The token is sent when asked for, not stored with the mirror.
    CHECK(slurp(r.mirror / "config").find("secret") == std::string::npos);

    // A push is taken by the next fetch.
    const std::string second = r.push("web.service", "web 2\n", "second");
    const auto next = fetch_branch(r.mirror.string(), options);
    REQUIRE(next.has_value());
    CHECK(next->tip == second);
    CHECK(next->previous_tip == first->tip);
    CHECK_FALSE(next->history_rewritten);
    CHECK(git_line(r.mirror, "show main:web.service") == "web 2");
}

TEST_CASE("a token the http remote does not accept is refused", "[mirror][http]") {
    if (skipped()) return;
    HttpRemote r("deployer:secret");
    const auto first = fetch_branch(r.mirror.string(), r.options("deployer:secret"));
    REQUIRE(first.has_value());
    r.push("web.service", "web 2\n", "second");

    FetchOptions options;
    SECTION("a wrong token") { options = r.options("deployer:wrong"); }
    SECTION("the right token for another user") { options = r.options("intruder:secret"); }
    const auto result = fetch_branch(r.mirror.string(), options);
    INFO("server: " << r.server.log());
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() == "cannot fetch 'main' from '" + options.url + "': the token was refused");
    CHECK(r.mirror_ref() == first->tip);
}

TEST_CASE("without a token file, an http remote that asks for one is an error", "[mirror][http]") {
    if (skipped()) return;
    HttpRemote r("deployer:secret");
    const FetchOptions options = r.options("");
    const auto result = fetch_branch(r.mirror.string(), options);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() == "cannot fetch 'main' from '" + options.url +
                                "': remote authentication required but no callback set");
    CHECK(r.mirror_ref().empty());
}
