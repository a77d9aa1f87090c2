// Health checks in the real daemon (DESIGN §4): an HTTP check that starts failing restarts the unit, a TCP
// check on a closed port marks it unhealthy, HealthCheckExec= runs inside the unit's cgroup, and a deploy
// that fails its gate with AutoRollback=yes is rolled back, its commit quarantined until `sync --force`.

#include <catch2/catch.hpp>

#include "daemon_fixture.h"
#include "../git_daemon_support.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

Poco::JSON::Object::Ptr unit_json(const DaemonFixture& f, const std::string& unit) { return f.status_json(unit); }

std::string health(const DaemonFixture& f, const std::string& unit) {
    const auto s = unit_json(f, unit);
    return s ? s->getValue<std::string>("health") : "none";
}

Poco::JSON::Array::Ptr history(const DaemonFixture& f) {
    const Poco::Dynamic::Var v = f.cli_json("history -n 100");
    return v.isEmpty() ? nullptr : v.extract<Poco::JSON::Array::Ptr>();
}

// The newest deployment of `commit` (null when there is none).
Poco::JSON::Object::Ptr deployment_of(const DaemonFixture& f, const std::string& commit) {
    const auto list = history(f);
    for (size_t i = 0; list && i < list->size(); ++i)
        if (list->getObject(i)->getValue<std::string>("commit") == commit) return list->getObject(i);
    return nullptr;
}

std::string result_of(const DaemonFixture& f, const std::string& commit) {
    const auto d = deployment_of(f, commit);
    return d ? d->getValue<std::string>("result") : "";
}

}  // namespace

TEST_CASE("a unit whose health URL starts failing is restarted after its retries", "[daemon][health]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    const int port = free_port();
    f.dir.write("www/ok", "fine\n");
    const std::string www = (f.dir / "www").string();
    f.write_unit("web.service", "[Service]\nExecStart=/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory " +
                                    www + " " + std::to_string(port) +
                                    "\n[X-Gitvisor]\nHealthCheckURL=http://127.0.0.1:" + std::to_string(port) +
                                    "/ok\nHealthCheckInterval=200ms\nHealthCheckRetries=2\n");
    f.commit("web with a health check");
    f.start_daemon();
    REQUIRE(eventually([&] { return health(f, "web") == "healthy"; }, 20));
    const auto healthy = unit_json(f, "web");
    CHECK(healthy->getValue<std::string>("health_detail") == "HTTP 200 OK");
    const pid_t first = f.main_pid("web");
    CHECK(f.cli("status web").out.find("Health: healthy (last check: HTTP 200 OK)") != std::string::npos);

    std::filesystem::remove(f.dir / "www/ok");  // now 404
    REQUIRE(eventually([&] { return f.restarted("web", first); }, 20));
    // The run that was stopped for it says so, and so do the events.
    const CommandResult events = f.cli("events -n 200");
    CHECK(events.out.find("unhealthy after 2 failed check(s), last: HTTP 404 File not found; restarting") !=
          std::string::npos);
    f.dir.write("www/ok", "fine again\n");
    REQUIRE(eventually([&] { return health(f, "web") == "healthy"; }, 20));
    const CommandResult log = f.cli("logs web -n 200");
    CHECK(log.out.find("-- restarted: unhealthy (HTTP 404 File not found) --") != std::string::npos);
}

TEST_CASE("a TCP check on a closed port marks the unit unhealthy, and a HealthCheckExec= runs in its cgroup",
          "[daemon][health]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    const int closed = free_port();
    const std::string marker = (f.dir / "checked").string();
    f.write_unit("closed.service", "[Service]\nExecStart=/bin/sleep 1000\n[X-Gitvisor]\nHealthCheckTCP=127.0.0.1:" +
                                       std::to_string(closed) + "\nHealthCheckInterval=10min\nHealthCheckRetries=1\n");
    f.write_unit("probe.service", "[Service]\nExecStart=/bin/sleep 1000\n[X-Gitvisor]\n"
                                  "HealthCheckExec=/bin/sh -c 'cat /proc/self/cgroup > " + marker +
                                      "; echo checked pid $$$$'\nHealthCheckInterval=10min\n");
    f.commit("two checked units");
    f.start_daemon();
    REQUIRE(eventually([&] { return health(f, "probe") == "healthy"; }, 20));
    CHECK(unit_json(f, "probe")->getValue<std::string>("health_detail").starts_with("HealthCheckExec= exit status 0: checked pid "));
    // It ran in the unit's cgroup, seen from the unit's PID namespace (a small pid).
    const std::string cgroups = slurp(marker);
    CHECK(cgroups.find(f.cgroup_parent() + "/probe.service") != std::string::npos);
    const std::string detail = unit_json(f, "probe")->getValue<std::string>("health_detail");
    INFO(detail);
    CHECK(std::stoi(detail.substr(detail.rfind(' ') + 1)) < 100);

    // Retries=1: the first counted failure is unhealthy; the unit is restarted.
    REQUIRE(eventually([&] {
        const CommandResult e = f.cli("events -n 200");
        return e.out.find("closed.service") != std::string::npos &&
               e.out.find("unhealthy after 1 failed check(s), last: connection refused") != std::string::npos;
    }, 20));
    const CommandResult list = f.cli("list");
    CHECK(list.out.find("HEALTH") != std::string::npos);
}

TEST_CASE("with AutoRollback a deploy of a unit that exits at once is rolled back and its commit quarantined",
          "[daemon][health]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.dir.write("units/gitvisor.ini", "[Deploy]\nAutoRollback=yes\nTimeout=20s\n");
    f.write_unit("steady.service", "[Service]\nExecStart=/bin/sleep 1000\n");
    f.write_unit("web.service", "[Service]\nExecStart=/bin/sleep 2000\n");
    f.commit("good");
    const std::string good = f.tip();
    f.start_daemon();
    REQUIRE(eventually([&] { return result_of(f, good) == "applied"; }, 20));
    const pid_t steady = f.main_pid("steady");
    REQUIRE(steady > 0);

    f.write_unit("web.service", "[Service]\nExecStart=/bin/sh -c 'exit 3'\n");
    f.commit("break web");
    const std::string bad = f.tip();
    REQUIRE(eventually([&] { return result_of(f, bad) == "rolled-back"; }, 30));
    const auto failed = deployment_of(f, bad);
    CHECK(failed->getValue<std::string>("note").find("rolled back automatically to " + good.substr(0, 7)) !=
          std::string::npos);
    INFO(f.cli("history -n 5").out);
    const auto errors = failed->getArray("errors");
    REQUIRE(errors->size() == 1);
    // Caught by the start itself or by the gate's MinReadySec=, whichever sees it first.
    const std::string why = errors->getObject(0)->getValue<std::string>("message");
    CHECK((why == "failed to start: exit-code" || why == "exited: result exit-code"));
    CHECK(errors->getObject(0)->getValue<std::string>("file") == "web.service");

    // A new commit on the branch, with the good tree, deployed with trigger auto-rollback.
    REQUIRE(eventually([&] { return f.tip() != bad && result_of(f, f.tip()) == "applied"; }, 30));
    const auto rollback = deployment_of(f, f.tip());
    CHECK(rollback->getValue<std::string>("trigger") == "auto-rollback");
    CHECK(rollback->getValue<std::string>("subject") == "Roll back to " + good.substr(0, 7) + ": good");
    CHECK(f.main_pid("steady") == steady);  // unchanged all along
    REQUIRE(eventually([&] { return f.state("web") == "active/running"; }, 20));
    CHECK(f.cli("list").out.find("quarantined: " + bad.substr(0, 7)) != std::string::npos);

    // The branch moved back to the bad commit (a reset, a force-push): the watcher leaves it alone.
    const size_t before = f.deployments();
    REQUIRE(run(git() + " update-ref refs/heads/main " + bad, f.repo).exit_code == 0);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    CHECK(f.deployments() == before);
    CHECK(f.state("web") == "active/running");
    CHECK(f.cli("sync").exit_code == 1);  // a plain sync does not deploy it either
    CHECK(f.deployments() == before);

    // sync --force deploys it again (and it fails again).
    CHECK(f.cli("sync --force").exit_code == 1);
    CHECK(f.deployments() > before);
    CHECK(deployment_of(f, bad)->getValue<int64_t>("id") > failed->getValue<int64_t>("id"));
}

TEST_CASE("remote mode: a failed deploy is pinned back to the healthy commit until the remote moves on",
          "[daemon][health][remote]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.dir.write("units/gitvisor.ini", "[Deploy]\nAutoRollback=yes\n");
    f.write_unit("web.service", "[Service]\nExecStart=/bin/sleep 2000\n");
    f.commit("good");
    const std::string good = f.tip();
    f.launch_daemon("--remote " + shell_quote("file://" + f.repo) + " --fetch-interval 3600 --state-dir " +
                    shell_quote((f.dir / "state").string()) + " --run-dir " + shell_quote((f.dir / "run").string()) +
                    " " + f.standard_flags());
    REQUIRE(eventually([&] { return result_of(f, good) == "applied"; }, 20));

    f.write_unit("web.service", "[Service]\nExecStart=/bin/sh -c 'exit 3'\n");
    f.commit("break web");
    const std::string bad = f.tip();
    CHECK(f.cli("sync").exit_code == 1);
    REQUIRE(eventually([&] { return result_of(f, bad) == "rolled-back"; }, 30));
    // Pinned to the healthy commit, deployed again with trigger auto-rollback.
    REQUIRE(eventually([&] { return f.state("web") == "active/running"; }, 30));
    const CommandResult status = f.cli("status");
    CHECK(status.out.find("pinned to " + good.substr(0, 7)) != std::string::npos);
    CHECK(status.out.find("quarantined: " + bad.substr(0, 7)) != std::string::npos);
    const auto list = history(f);
    REQUIRE(list);
    CHECK(list->getObject(0)->getValue<std::string>("trigger") == "auto-rollback");
    CHECK(list->getObject(0)->getValue<std::string>("commit") == good);

    // A new commit on the remote lifts the pin: it is deployed.
    f.write_unit("web.service", "[Service]\nExecStart=/bin/sleep 3000\n");
    f.commit("fix web");
    const std::string fixed = f.tip();
    CHECK(f.cli("sync").exit_code == 0);
    CHECK(result_of(f, fixed) == "applied");
    CHECK(f.cli("status").out.find("pinned to") == std::string::npos);
}
