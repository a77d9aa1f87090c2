// Going back and looking ahead through the real gitvisord: `diff` previews a deploy, ConditionHost= splits
// one repository among hosts.

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <set>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

std::string sleeper(const std::string& version, const std::string& unit_section = "") {
    return "[Unit]\n" + unit_section + "[Service]\nExecStart=/bin/sleep 1000\nEnvironment=VERSION=" + version + "\n";
}

// "action unit (reason)" of each action of a deploy or a diff.
std::set<std::string> actions_of(const Poco::JSON::Array::Ptr& actions) {
    std::set<std::string> out;
    for (size_t i = 0; i < actions->size(); ++i) {
        const auto a = actions->getObject(i);
        out.insert(a->getValue<std::string>("action") + " " + a->getValue<std::string>("unit") + " (" +
                   a->getValue<std::string>("reason") + ")");
    }
    return out;
}

}  // namespace

TEST_CASE("diff shows the plan a deploy then runs, and what a broken commit would be rejected for", "[daemon][history]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    f.write_unit("a.service", sleeper("1"));
    f.write_unit("b.service", sleeper("1"));
    f.write_unit("keep.service", sleeper("1"));
    f.commit("three units");
    REQUIRE(eventually([&] { return f.state("a") == "active/running" && f.state("b") == "active/running"; }));
    CHECK(f.cli("diff").out.find("nothing to do") != std::string::npos);

    // The next version is prepared on a branch gitvisord does not watch.
    REQUIRE(run(git() + " checkout -q -b next", f.repo).exit_code == 0);
    f.write_unit("a.service", sleeper("2"));
    std::filesystem::remove(f.dir / "units/b.service");
    f.write_unit("c.service", sleeper("1"));
    f.write_unit("keep.service", "# a comment only\n" + sleeper("1"));
    f.commit("next version");
    const Poco::JSON::Object::Ptr preview = f.cli_json("diff next").extract<Poco::JSON::Object::Ptr>();
    CHECK(preview->getValue<bool>("valid"));
    const std::set<std::string> planned = actions_of(preview->getArray("actions"));
    CHECK(planned == std::set<std::string>{"restart a.service (changed)", "stop b.service (removed)",
                                           "start c.service (added)"});
    const CommandResult text = f.cli("diff next");
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("  restart a.service (changed)\n") != std::string::npos);
    CHECK(text.out.find("3 action(s)") != std::string::npos);
    // Nothing ran meanwhile.
    CHECK(f.state("b") == "active/running");

    // The deploy does what diff said.
    REQUIRE(run(git() + " checkout -q main && " + git() + " merge -q --ff-only next", f.repo).exit_code == 0);
    REQUIRE(eventually([&] { return f.state("c") == "active/running"; }));
    const auto history = f.cli_json("history -n 1").extract<Poco::JSON::Array::Ptr>();
    CHECK(actions_of(history->getObject(0)->getArray("actions")) == planned);

    // A broken commit: diff lists the errors, exits 1, changes nothing.
    REQUIRE(run(git() + " checkout -q -b broken", f.repo).exit_code == 0);
    f.write_unit("d.service", "[Service]\nExecStart=relative/path\n");
    f.commit("broken");
    const CommandResult broken = f.cli("diff broken");
    CHECK(broken.exit_code == 1);
    CHECK(broken.out.find("d.service:2: error:") != std::string::npos);
    CHECK(broken.out.find("would be rejected") != std::string::npos);
    CHECK(f.cli("diff no-such-revision").exit_code == 1);
}

TEST_CASE("one repository, two hosts: ConditionHost= decides which units each runs", "[daemon][history]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture web;
    DaemonFixture db;
    // The db host's gitvisord watches the web fixture's repository.
    web.start_daemon("--hostname web-1.example.com");
    db.launch_daemon("--repo " + shell_quote(web.repo) + " --state-dir " + shell_quote((db.dir / "state").string()) +
                     " --run-dir " + shell_quote((db.dir / "run").string()) + " " + db.standard_flags() +
                     " --hostname db-1");
    web.write_unit("site.service", sleeper("1", "ConditionHost=web-*\n"));
    web.write_unit("postgres.service", sleeper("1", "ConditionHost=db-1\n"));
    web.write_unit("agent.service", sleeper("1"));
    web.commit("a fleet");
    REQUIRE(eventually([&] { return web.state("site") == "active/running" && db.state("postgres") == "active/running"; }));
    REQUIRE(eventually([&] { return web.state("agent") == "active/running" && db.state("agent") == "active/running"; }));
    CHECK(web.state("postgres") == "none");
    CHECK(db.state("site") == "none");
    CHECK(web.cli("status postgres").exit_code == 4);

    // The site moves to every host: the db host starts it; then it leaves the web hosts: stopped there.
    web.write_unit("site.service", sleeper("1", "ConditionHost=db-*\n"));
    web.commit("the site moves to the db hosts");
    REQUIRE(eventually([&] { return db.state("site") == "active/running"; }));
    REQUIRE(eventually([&] { return web.state("site") == "none"; }));
    CHECK(web.state("agent") == "active/running");
}

TEST_CASE("rollback brings back a commit's units exactly, as a new commit, and refuses a dirty work tree",
          "[daemon][history]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    f.write_unit("keep.service", sleeper("1"));
    f.write_unit("web.service", sleeper("1"));
    f.commit("v1");
    const std::string v1 = f.tip();
    REQUIRE(eventually([&] { return f.state("web") == "active/running" && f.state("keep") == "active/running"; }));
    const auto spec_of = [&](const std::string& unit) {
        auto s = f.status_json(unit);
        return s ? s->getValue<std::string>("spec_hash") : std::string();
    };
    const std::string web_v1_spec = spec_of("web");
    const pid_t keep_pid = f.main_pid("keep");

    f.write_unit("web.service", sleeper("2"));
    f.write_unit("extra.service", sleeper("1"));
    f.commit("v2");
    REQUIRE(eventually([&] { return f.state("extra") == "active/running" && spec_of("web") != web_v1_spec; }));
    f.write_unit("web.service", sleeper("3"));
    f.commit("v3");
    REQUIRE(eventually([&] { return f.cli_json("status").extract<Poco::JSON::Object::Ptr>()->getValue<std::string>(
                                        "applied_commit") == f.tip(); }));

    // Unknown revision: an error, nothing changes.
    const std::string tip_before = f.tip();
    const CommandResult unknown = f.cli("rollback 0123456789abcdef");
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("cannot roll back to '0123456789abcdef'") != std::string::npos);
    CHECK(f.tip() == tip_before);

    // A dirty work tree: refused, nothing changes.
    f.write_unit("web.service", sleeper("edited but not committed"));
    const CommandResult dirty = f.cli("rollback " + v1.substr(0, 10));
    CHECK(dirty.exit_code == 1);
    CHECK(dirty.err.find("uncommitted changes (web.service)") != std::string::npos);
    CHECK(f.tip() == tip_before);
    REQUIRE(run(git() + " checkout -- web.service", f.repo).exit_code == 0);

    // Two deploys back, by hash prefix: v1's units and spec hashes, unchanged units keep their pids.
    const CommandResult rolled = f.cli("rollback " + v1.substr(0, 10));
    INFO(rolled.out << rolled.err);
    CHECK(rolled.exit_code == 0);
    CHECK(rolled.out.find("rolled back to " + v1.substr(0, 7) + " (v1)") != std::string::npos);
    CHECK(spec_of("web") == web_v1_spec);
    CHECK(f.state("extra") == "none");
    CHECK(f.main_pid("keep") == keep_pid);
    // The branch has a new commit with v1's tree, and the work tree follows it.
    const std::string tree = run(git() + " rev-parse HEAD^{tree}", f.repo).out;
    CHECK(tree == run(git() + " rev-parse " + v1 + "^{tree}", f.repo).out);
    CHECK(run(git() + " log -1 --format=%s", f.repo).out == "Roll back to " + v1.substr(0, 7) + ": v1\n");
    CHECK(run(git() + " status --porcelain", f.repo).out.empty());
    CHECK_FALSE(std::filesystem::exists(f.dir / "units/extra.service"));
    const auto last = f.cli_json("history -n 1").extract<Poco::JSON::Array::Ptr>()->getObject(0);
    CHECK(last->getValue<std::string>("trigger") == "rollback");
    CHECK(last->getValue<std::string>("result") == "applied");
    CHECK(last->getValue<std::string>("note") == "roll back to " + v1.substr(0, 7) + ": v1");

    // sync: nothing new to deploy, the last deploy of the tip is shown.
    const CommandResult synced = f.cli("sync");
    CHECK(synced.exit_code == 0);
    CHECK(synced.out.find("applied    rollback") != std::string::npos);

    // Not root nor in the gitvisor group: refused.
    chmod(f.dir.path().c_str(), 0755);
    const CommandResult refused =
        run("setpriv --reuid=65534 --regid=65534 --clear-groups " + shell_quote(gitvisor_binary()) + " --socket " +
                shell_quote((f.dir / "run/control.sock").string()) + " rollback HEAD~1",
            f.dir.path());
    CHECK(refused.exit_code == 5);
}
