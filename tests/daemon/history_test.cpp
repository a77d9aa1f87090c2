// Going back and looking ahead through the real gitvisord: `diff` previews a deploy, ConditionHost= splits
// one repository among hosts.

#include <catch2/catch.hpp>

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
