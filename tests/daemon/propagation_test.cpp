// Runtime start/stop/restart along dependencies (systemd's propagation), --all, and `gitvisor tree`.

#include <catch2/catch.hpp>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

const std::string kSleep = "[Service]\nExecStart=/bin/sleep 1000\n";

}  // namespace

TEST_CASE("stop takes its dependents first, start pulls in what a unit requires and wants, Conflicts= stops the "
          "other, restart carries PartOf= units along, --all moves every unit",
          "[daemon][propagation]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.write_unit("db.service", kSleep);
    f.write_unit("cache.service", kSleep);
    f.write_unit("web.service", "[Unit]\nRequires=db.service\nAfter=db.service\nWants=cache.service\n" + kSleep);
    f.write_unit("api.service", "[Unit]\nPartOf=db.service\n" + kSleep);
    f.write_unit("batch.service", "[Unit]\nConflicts=web.service\n[Service]\nExecStart=/bin/sleep 1000\n");
    f.commit("five units");
    f.start_daemon();
    for (const char* u : {"db", "cache", "web", "api", "batch"})
        REQUIRE(eventually([&] { return f.state(u) == "active/running"; }, 20));
    // batch conflicts with web, but a deploy starts what the commit says: both run until someone starts one.

    const CommandResult tree = f.cli("tree web");
    CHECK(tree.out.find("● web.service (active)") == 0);
    CHECK(tree.out.find("├─Requires ● db.service (active)") != std::string::npos);
    CHECK(tree.out.find("└─Wants ● cache.service (active)") != std::string::npos);
    const CommandResult forest = f.cli("tree");
    CHECK(forest.out.find("● web.service") != std::string::npos);
    CHECK(forest.out.find("● batch.service") != std::string::npos);
    CHECK(f.cli("tree nope").exit_code == 4);

    // stop db: web (Requires=) and api (PartOf=) go first.
    const CommandResult stopped = f.cli("stop db");
    CHECK(stopped.exit_code == 0);
    CHECK(stopped.out.find("also stopped:") == 0);
    CHECK(stopped.out.find("web.service") != std::string::npos);
    CHECK(stopped.out.find("api.service") != std::string::npos);
    CHECK(f.state("db") == "inactive/dead");
    CHECK(f.state("web") == "inactive/dead");
    CHECK(f.state("api") == "inactive/dead");
    CHECK(f.state("cache") == "active/running");  // only wanted by web: untouched
    // web's stop was recorded before db's.
    const std::string events = f.cli("events -n 300").out;
    const size_t web_exit = events.find("unit web.service: exited");
    const size_t db_exit = events.find("unit db.service: exited");
    INFO(events);
    REQUIRE(web_exit != std::string::npos);
    REQUIRE(db_exit != std::string::npos);
    CHECK(web_exit < db_exit);

    // start web: db comes first; batch, which conflicts with web, is stopped.
    const CommandResult started = f.cli("start web");
    CHECK(started.exit_code == 0);
    CHECK(started.out.find("also started: db.service") != std::string::npos);
    CHECK(f.state("db") == "active/running");
    CHECK(f.state("web") == "active/running");
    CHECK(f.state("batch") == "inactive/dead");
    CHECK(f.state("api") == "inactive/dead");  // PartOf= does not pull in

    // restart db carries api (PartOf=) along once it runs.
    CHECK(f.cli("start api").exit_code == 0);
    const pid_t api = f.main_pid("api");
    const CommandResult restarted = f.cli("restart db");
    CHECK(restarted.exit_code == 0);
    CHECK(restarted.out.find("api.service") != std::string::npos);
    CHECK(f.restarted("api", api));

    CHECK(f.cli("stop --all").exit_code == 0);
    for (const char* u : {"db", "cache", "web", "api", "batch"}) CHECK(f.state(u) == "inactive/dead");
    CHECK(f.cli("start").exit_code == 2);
    CHECK(f.cli("start --all web").exit_code == 2);
    CHECK(f.cli("start --all").exit_code == 0);
    // Every unit asked for, in name order: batch starts, then web stops it again (Conflicts=).
    for (const char* u : {"db", "cache", "web", "api"}) CHECK(f.state(u) == "active/running");
    CHECK(f.state("batch") == "inactive/dead");
}

TEST_CASE("a start fails when its Requisite= is not active or a required unit cannot start", "[daemon][propagation]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.write_unit("base.service", kSleep);
    f.write_unit("broken.service", "[Service]\nType=exec\nExecStart=/nonexistent/program\n");
    f.write_unit("needs-base.service", "[Unit]\nRequisite=base.service\n" + kSleep);
    f.write_unit("needs-broken.service", "[Unit]\nRequires=broken.service\nAfter=broken.service\n" + kSleep);
    f.commit("requisites");
    f.start_daemon();
    REQUIRE(eventually([&] { return f.state("needs-base") == "active/running"; }, 20));
    CHECK(f.cli("stop base needs-base").exit_code == 0);
    const CommandResult refused = f.cli("start needs-base");
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("its Requisite= base.service is not active (inactive)") != std::string::npos);
    CHECK(f.state("needs-base") == "inactive/dead");
    CHECK(f.cli("stop needs-broken").exit_code == 0);
    const CommandResult failed = f.cli("start needs-broken");
    CHECK(failed.exit_code == 1);
    CHECK(failed.err.find("its dependency broken.service did not start") != std::string::npos);
    CHECK(f.state("needs-broken") == "inactive/dead");
}

TEST_CASE("a unit that fails starts its OnFailure= units", "[daemon][propagation]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    const std::string alerts = (f.dir / "alerts").string();
    f.write_unit("alert.service", "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo alert >> " + alerts + "'\n");
    f.write_unit("flaky.service", "[Unit]\nOnFailure=alert.service\n[Service]\nExecStart=/bin/sleep 1000\n");
    f.commit("flaky with an alert");
    f.start_daemon();
    REQUIRE(eventually([&] { return f.state("flaky") == "active/running"; }, 20));
    // Only an OnFailure= target: deployed, not started (systemd does not start it at boot either).
    REQUIRE(eventually([&] { return f.cli("--json history -n 1").out.find("\"applied\"") != std::string::npos; }, 20));
    CHECK(f.state("alert") == "inactive/dead");
    CHECK(slurp(alerts).empty());
    CHECK(f.cli("history -n 1").out.find("load alert.service") != std::string::npos);
    REQUIRE(kill(f.main_pid("flaky"), SIGKILL) == 0);  // Restart=no: failed for good
    REQUIRE(eventually([&] { return f.state("flaky") == "failed/failed"; }, 20));
    CHECK(eventually([&] { return slurp(alerts) == "alert\n"; }, 20));
    // The event is recorded once the start has finished, a moment after the oneshot wrote its line.
    CHECK(eventually([&] {
        return f.cli("events -n 200").out.find("started by OnFailure= of flaky.service") != std::string::npos;
    }, 20));
}
