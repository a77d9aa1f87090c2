// Remote mode through the real gitvisord: it fetches a remote's branch into its mirror, by timer and on
// `gitvisor sync`, deploys force-pushes, keeps everything running while the remote is away, and pins a
// rollback until `gitvisor rollback --unpin`.

#include <catch2/catch.hpp>

#include "../git_daemon_support.h"
#include "daemon_fixture.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

std::string sleeper(const std::string& version) {
    return "[Service]\nExecStart=/bin/sleep 1000\nEnvironment=VERSION=" + version + "\n";
}

// gitvisord in remote mode on `url`, with the fixture's state and run folders.
void start_remote_daemon(DaemonFixture& f, const std::string& url, int interval_sec) {
    f.launch_daemon("--remote " + shell_quote(url) + " --fetch-interval " + std::to_string(interval_sec) +
                    " --state-dir " + shell_quote((f.dir / "state").string()) + " --run-dir " +
                    shell_quote((f.dir / "run").string()) + " " + f.standard_flags());
}

std::string head_of(const std::string& repo) {
    const std::string out = run(git() + " rev-parse HEAD", repo).out;
    return out.substr(0, out.find('\n'));
}

}  // namespace

TEST_CASE("remote mode: timer and sync deploy pushes, force-pushes too, an unreachable remote changes nothing",
          "[daemon][remote]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    // The fixture's repository plays the remote; gitvisord deploys from <state>/mirror.
    f.write_unit("a.service", sleeper("1"));
    f.commit("a");
    start_remote_daemon(f, "file://" + f.repo, 1);
    REQUIRE(eventually([&] { return f.state("a") == "active/running"; }));
    CHECK(std::filesystem::exists(f.dir / "state/mirror/HEAD"));

    // By the timer (every second).
    f.write_unit("b.service", sleeper("1"));
    f.commit("b");
    REQUIRE(eventually([&] { return f.state("b") == "active/running"; }));

    // By sync: applied when it returns.
    f.write_unit("c.service", sleeper("1"));
    f.commit("c");
    const CommandResult synced = f.cli("sync");
    INFO(synced.out << synced.err);
    CHECK(synced.exit_code == 0);
    CHECK(f.state("c") == "active/running");
    const std::string with_c = head_of(f.repo);

    // A force-push: history rewritten, deployed all the same, and said so.
    REQUIRE(run(git() + " reset -q --hard HEAD~1", f.repo).exit_code == 0);
    f.write_unit("d.service", sleeper("1"));
    f.commit("d instead of c");
    CHECK(f.cli("sync").exit_code == 0);
    CHECK(f.state("d") == "active/running");
    CHECK(f.state("c") == "none");
    const auto forced = f.cli_json("history -n 1").extract<Poco::JSON::Array::Ptr>()->getObject(0);
    CHECK(forced->getValue<std::string>("note").find("history rewritten") != std::string::npos);

    // Rollback pins the desired state: new pushes wait until --unpin.
    const CommandResult pinned = f.cli("rollback " + with_c);
    INFO(pinned.out << pinned.err);
    CHECK(pinned.exit_code == 0);
    CHECK(f.state("c") == "active/running");
    CHECK(f.state("d") == "none");
    CHECK(f.cli("status").out.find("pinned to " + with_c.substr(0, 7)) != std::string::npos);
    f.write_unit("e.service", sleeper("1"));
    f.commit("e");
    CHECK(f.cli("sync").exit_code == 0);
    CHECK(f.state("e") == "none");
    CHECK(f.cli("rollback --unpin").exit_code == 0);
    CHECK(f.state("e") == "active/running");
    CHECK(f.state("d") == "active/running");

    // The remote goes away: sync fails, every unit keeps its process, status and history say why.
    const pid_t a_pid = f.main_pid("a");
    std::filesystem::rename(f.repo, f.dir / "moved-away");
    const CommandResult failing = f.cli("sync");
    CHECK(failing.exit_code == 1);
    CHECK(failing.err.find("cannot fetch 'main' from 'file://") != std::string::npos);
    CHECK(f.main_pid("a") == a_pid);
    CHECK(f.cli("status").out.find("failing: cannot fetch") != std::string::npos);
    const auto failed = f.cli_json("history -n 1").extract<Poco::JSON::Array::Ptr>()->getObject(0);
    CHECK(failed->getValue<std::string>("result") == "failed");
    CHECK(failed->getValue<std::string>("trigger") == "fetch");
    // Back again: fetching works, nothing was restarted meanwhile.
    std::filesystem::rename(f.dir / "moved-away", f.repo);
    CHECK(f.cli("sync").exit_code == 0);
    CHECK(f.main_pid("a") == a_pid);
    CHECK(f.cli("status").out.find("failing") == std::string::npos);
}

TEST_CASE("remote mode over git:// from git daemon on 127.0.0.1: pushes are deployed by timer and sync",
          "[daemon][remote]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    if (!have_git_daemon()) {
        WARN("skipped: git daemon is not installed");
        return;
    }
    DaemonFixture f;
    f.write_unit("a.service", sleeper("1"));
    f.commit("a");
    const int port = free_port();
    GitDaemon server(f.dir.path(), port, f.dir / "git-daemon.log");
    INFO("git daemon: " << slurp(f.dir / "git-daemon.log"));
    REQUIRE(server.ready());
    start_remote_daemon(f, "git://127.0.0.1:" + std::to_string(port) + "/units", 1);
    REQUIRE(eventually([&] { return f.state("a") == "active/running"; }));
    f.write_unit("b.service", sleeper("1"));
    f.commit("b");
    REQUIRE(eventually([&] { return f.state("b") == "active/running"; }));
    f.write_unit("b.service", sleeper("2"));
    f.commit("b again");
    const pid_t before = f.main_pid("b");
    CHECK(f.cli("sync").exit_code == 0);
    CHECK(f.restarted("b", before));
}

TEST_CASE("remote mode warns when a token would go over plain http://", "[daemon][remote]") {
    DaemonFixture f;
    const std::string token = (f.dir / "token").string();
    std::ofstream(token) << "secret\n";
    // Nothing listens on port 1: the fetch fails, the warning is written at start-up either way.
    f.launch_daemon("--remote http://127.0.0.1:1/units.git --token-file " + shell_quote(token) +
                    " --fetch-interval 3600 --state-dir " + shell_quote((f.dir / "state").string()) + " --run-dir " +
                    shell_quote((f.dir / "run").string()) + " " + f.standard_flags());
    CHECK(eventually([&] {
        return slurp(f.dir / "gitvisord.log")
                   .find("warning: the token of " + token + " goes to http://127.0.0.1:1/units.git unencrypted") !=
               std::string::npos;
    }, 10));
}
