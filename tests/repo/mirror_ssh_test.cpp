// fetch_branch over ssh:// from a real sshd on 127.0.0.1 (a private one: tests/ssh_server_support.h), with a
// client key, as root. libgit2 checks the server's host key against $HOME/.ssh/known_hosts at each
// connection, so each fetch runs with HOME set to a temporary folder whose known_hosts the test writes.

#include <unistd.h>

#include "../scoped_env.h"
#include "../ssh_server_support.h"
#include "repo/mirror.h"
#include "repo_test_support.h"

using namespace gitvisor::testing;
using gitvisor::repo::fetch_branch;
using gitvisor::repo::FetchOptions;
using gitvisor::repo::FetchResult;

namespace {

// Why an ssh test cannot run here, or "" when it can.
std::string ssh_unavailable() {
    if (::geteuid() != 0) return "needs root: sshd lets in only the user it runs as, and runs in namespaces";
    if (!have_sshd())
        return std::string("needs ") + kSshd + ", ssh-keygen and unshare (openssh-server, util-linux)";
    return "";
}

// remote.git (bare, with main) fed by pushes from work/, served by sshd; a client key sshd accepts, and a
// HOME whose known_hosts lists sshd's host key. The mirror is not made yet.
struct SshRemote {
    TempDir dir;
    std::filesystem::path bare = dir / "remote.git";
    std::filesystem::path work = dir / "work";
    std::filesystem::path mirror = dir / "state/mirror.git";
    std::filesystem::path home = dir / "home";
    std::filesystem::path key = dir / "keys/client";
    SshServer server{dir / "sshd"};

    SshRemote() {
        git_ok(dir.path(), "init -q --bare remote.git");
        std::filesystem::create_directories(work);
        git_ok(work, "init -q");
        git_ok(work, "remote add origin " + shell_quote(bare.string()));
        push("web.service", "web 1\n", "first");

        std::filesystem::create_directories(key.parent_path());
        make_ssh_key(key);
        server.authorize(key);
        write_known_hosts(server.known_hosts_line() + "\n");
        const bool ready = server.ready();
        INFO("sshd: " << server.log());
        REQUIRE(ready);
    }

    std::string push(const std::string& name, const std::string& text, const std::string& message) const {
        const std::string commit = commit_files(work, {{name, text}}, message);
        git_ok(work, "push -q origin main");
        return commit;
    }
    void write_known_hosts(const std::string& text) const {
        std::filesystem::create_directories(home / ".ssh");
        std::ofstream(home / ".ssh/known_hosts") << text;
    }
    FetchOptions options() const {
        FetchOptions o;
        o.url = server.url(bare);
        o.ssh_key_file = key.string();
        return o;
    }
    // fetch_branch with HOME on home/, so that libgit2 reads home/.ssh/known_hosts and never the host's.
    gitvisor::Result<FetchResult> fetch(const FetchOptions& options) const {
        ScopedEnv scoped_home("HOME", home.string());
        return fetch_branch(mirror.string(), options);
    }
    std::string mirror_ref() const {
        const CommandResult r = run(git() + " rev-parse --verify -q refs/heads/main", mirror);
        return r.out.substr(0, r.out.find('\n'));
    }
};

}  // namespace

TEST_CASE("fetch over ssh:// from sshd on 127.0.0.1 with a client key", "[mirror][ssh]") {
    if (const std::string why = ssh_unavailable(); !why.empty()) {
        WARN("skipped: " << why);
        return;
    }
    SshRemote r;
    FetchOptions options = r.options();
    SECTION("the key's .pub beside it") {}
    SECTION("no .pub beside the key: libssh2 derives the public key") {
        std::filesystem::remove(r.key.string() + ".pub");
    }
    const auto first = r.fetch(options);
    INFO("sshd: " << r.server.log());
    REQUIRE(first.has_value());
    CHECK(first->tip == git_line(r.work, "rev-parse HEAD"));
    CHECK(first->previous_tip.empty());
    CHECK(r.mirror_ref() == first->tip);
    CHECK(git_line(r.mirror, "config remote.origin.url") == options.url);
    CHECK(git_line(r.mirror, "show main:web.service") == "web 1");
    CHECK(r.server.log().find("Accepted publickey for root") != std::string::npos);

    // A push is taken by the next fetch.
    const std::string second = r.push("web.service", "web 2\n", "second");
    const auto next = r.fetch(options);
    REQUIRE(next.has_value());
    CHECK(next->tip == second);
    CHECK(next->previous_tip == first->tip);
    CHECK_FALSE(next->history_rewritten);
    CHECK(r.mirror_ref() == second);
    CHECK(git_line(r.mirror, "show main:web.service") == "web 2");
}

TEST_CASE("an ssh key the server does not accept is refused", "[mirror][ssh]") {
    if (const std::string why = ssh_unavailable(); !why.empty()) {
        WARN("skipped: " << why);
        return;
    }
    SshRemote r;
    const auto first = r.fetch(r.options());
    REQUIRE(first.has_value());
    r.push("web.service", "web 2\n", "second");

    FetchOptions options = r.options();
    options.ssh_key_file = (r.dir / "keys/stranger").string();
    make_ssh_key(options.ssh_key_file);
    const auto result = r.fetch(options);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() == "cannot fetch 'main' from '" + options.url + "': the ssh key was refused");
    CHECK(r.mirror_ref() == first->tip);
}

TEST_CASE("an ssh key file that cannot be read, holds no key or needs a passphrase is an error", "[mirror][ssh]") {
    if (const std::string why = ssh_unavailable(); !why.empty()) {
        WARN("skipped: " << why);
        return;
    }
    SshRemote r;
    FetchOptions options = r.options();
    const std::string prefix = "cannot fetch 'main' from '" + options.url + "': ";

    SECTION("a key file that does not exist: refused before connecting") {
        options.ssh_key_file = (r.dir / "keys/missing").string();
        const auto result = r.fetch(options);
        REQUIRE_FALSE(result.has_value());
        CHECK(result.error() == prefix + "cannot read ssh key '" + options.ssh_key_file + "'");
        CHECK_FALSE(std::filesystem::exists(r.mirror));
    }
    SECTION("a key protected by a passphrase: said so, before connecting") {
        const std::filesystem::path locked = r.dir / "keys/locked";
        const CommandResult made = run("ssh-keygen -q -t ed25519 -N 'a secret' -f " + shell_quote(locked.string()), r.dir.path());
        REQUIRE(made.exit_code == 0);
        options.ssh_key_file = locked.string();
        const auto result = r.fetch(options);
        REQUIRE_FALSE(result.has_value());
        CHECK(result.error() == prefix + "the ssh key '" + locked.string() +
                                    "' is protected by a passphrase, which gitvisord cannot enter: use a key without "
                                    "one, readable only by root (ssh-keygen -p -N '' -f KEY removes it)");
        CHECK_FALSE(std::filesystem::exists(r.mirror));
        // The same key in PEM form.
        REQUIRE(run("ssh-keygen -q -t rsa -b 2048 -m PEM -N 'a secret' -f " + shell_quote((r.dir / "keys/pem").string()),
                    r.dir.path())
                    .exit_code == 0);
        options.ssh_key_file = (r.dir / "keys/pem").string();
        const auto pem = r.fetch(options);
        REQUIRE_FALSE(pem.has_value());
        CHECK(pem.error().find("is protected by a passphrase") != std::string::npos);
    }
    SECTION("a file that holds no key: libssh2's reason") {
        options.ssh_key_file = (r.dir / "keys/garbage").string();
        r.dir.write("keys/garbage", "not a key\n");
        const auto result = r.fetch(options);
        REQUIRE_FALSE(result.has_value());
        INFO(result.error());
        CHECK(result.error().starts_with(prefix));
        CHECK(result.error().find("private key file") != std::string::npos);
        CHECK(r.mirror_ref().empty());
    }
}

TEST_CASE("an ssh server whose host key known_hosts does not vouch for is refused before authenticating",
          "[mirror][ssh]") {
    if (const std::string why = ssh_unavailable(); !why.empty()) {
        WARN("skipped: " << why);
        return;
    }
    SshRemote r;
    FetchOptions options = r.options();
    SECTION("an empty known_hosts") { r.write_known_hosts(""); }
    SECTION("no known_hosts at all") { std::filesystem::remove(r.home / ".ssh/known_hosts"); }
    SECTION(
        "known_hosts holds another key for [127.0.0.1]:port: a changed host key, or a man in the middle") {
        make_ssh_key(r.dir / "keys/impostor");
        const std::string line = r.server.known_hosts_line();
        r.write_known_hosts(line.substr(0, line.find(' ')) + " " + public_key_of(r.dir / "keys/impostor") +
                            "\n");
    }
    SECTION("known_hosts holds the key for another host") {
        const std::string line = r.server.known_hosts_line();
        r.write_known_hosts("[127.0.0.2]" + line.substr(line.find(':')) + "\n");
    }
    const auto result = r.fetch(options);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() ==
          "cannot fetch 'main' from '" + options.url + "': invalid or unknown remote ssh hostkey");
    CHECK(r.mirror_ref().empty());
    // The client did not log in to a server it did not trust.
    CHECK(r.server.log().find("Accepted publickey") == std::string::npos);
}
