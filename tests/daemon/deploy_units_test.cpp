// What a deploy does with units: After= ordering behind a oneshot, Requires= restarts, a unit whose program
// is missing, and what `cat`, `history --json` and `list --json` report (DESIGN §7).

#include <catch2/catch.hpp>

#include <regex>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

const std::string kSleeper = "[Service]\nExecStart=/bin/sleep 1000\n";

// The timestamp of the first line of a unit's log whose text is `text` ("" when there is none yet). Log lines
// are `<RFC 3339 UTC with µs> <stream> <invocation> <text>`, so timestamps compare as strings.
std::string logged_at(const DaemonFixture& f, const std::string& unit, const std::string& text) {
    std::istringstream in(slurp(f.dir / ("state/logs/" + unit + "/current")));
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string time, stream, invocation, rest;
        fields >> time >> stream >> invocation;
        std::getline(fields, rest);
        if (rest == " " + text) return time;
    }
    return "";
}

Poco::JSON::Object::Ptr last_deployment(const DaemonFixture& f) {
    const Poco::Dynamic::Var v = f.cli_json("history -n 1");
    if (v.isEmpty()) return nullptr;
    const auto list = v.extract<Poco::JSON::Array::Ptr>();
    return list->size() ? list->getObject(0) : nullptr;
}

Poco::JSON::Object::Ptr action_of(const Poco::JSON::Object::Ptr& deployment, const std::string& unit) {
    const auto actions = deployment->getArray("actions");
    for (size_t i = 0; actions && i < actions->size(); ++i)
        if (actions->getObject(i)->getValue<std::string>("unit") == unit) return actions->getObject(i);
    return nullptr;
}

void check_keys(const Poco::JSON::Object::Ptr& o, const std::vector<std::string>& keys) {
    for (const std::string& k : keys) {
        INFO("field " << k);
        CHECK(o->has(k));
    }
}

const std::regex kRfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d))");

}  // namespace

TEST_CASE("After= a oneshot starts the later unit only when the oneshot has finished", "[daemon][order]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    f.write_unit("a.service",
                 "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo a-begin; sleep 1; echo a-end'\n");
    f.write_unit(
        "b.service",
        "[Unit]\nAfter=a.service\n[Service]\nExecStart=/bin/sh -c 'echo b-begin; exec sleep 1000'\n");
    f.commit("a then b");
    REQUIRE(eventually(
        [&] { return f.state("b") == "active/running" && !logged_at(f, "b.service", "b-begin").empty(); },
        20));
    const std::string a_end = logged_at(f, "a.service", "a-end");
    const std::string b_begin = logged_at(f, "b.service", "b-begin");
    REQUIRE_FALSE(a_end.empty());
    CHECK(a_end < b_begin);
    // The oneshot ran to its end, successfully.
    CHECK(f.state("a") == "inactive/dead");
    CHECK(f.status_json("a")->getValue<std::string>("result") == "success");
    CHECK(last_deployment(f)->getValue<std::string>("result") == "applied");
}

TEST_CASE("changing a unit restarts the units that Requires= it", "[daemon][order]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    f.write_unit("a.service", kSleeper);
    f.write_unit("b.service", "[Unit]\nRequires=a.service\nAfter=a.service\n" + kSleeper);
    f.write_unit("c.service", kSleeper);
    f.commit("a, b requires a, c");
    REQUIRE(eventually([&] { return f.main_pid("a") > 0 && f.main_pid("b") > 0 && f.main_pid("c") > 0; }));
    const pid_t a = f.main_pid("a"), b = f.main_pid("b"), c = f.main_pid("c");

    f.write_unit("a.service", kSleeper + "Environment=X=2\n");
    const size_t before = f.deployments();
    f.commit("change a");
    REQUIRE(
        eventually([&] { return f.deployments() > before && f.main_pid("a") > 0 && f.main_pid("b") > 0; }));
    REQUIRE(eventually([&] { return last_deployment(f)->getValue<std::string>("result") != "in-progress"; }));
    CHECK(f.main_pid("a") != a);
    CHECK(f.main_pid("b") != b);
    CHECK(f.main_pid("c") == c);
    CHECK_FALSE(process_alive(a));
    CHECK_FALSE(process_alive(b));
    const auto d = last_deployment(f);
    CHECK(d->getValue<std::string>("result") == "applied");
    REQUIRE(action_of(d, "b.service"));
    CHECK(action_of(d, "b.service")->getValue<std::string>("action") == "restart");
    CHECK(action_of(d, "c.service") == nullptr);
}

TEST_CASE("a unit whose program does not exist fails the deploy with the step and the reason", "[daemon]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    // Type=exec: started once execve has succeeded, so the deploy's start sees the failure (a Type=simple
    // unit is started once forked, as in systemd, and fails after; see the section below).
    f.write_unit("good.service", kSleeper);
    f.write_unit("missing.service",
                 "[Service]\nType=exec\nExecStart=/nonexistent/gitvisor-test-program --flag\n");
    f.commit("a unit without its program");
    REQUIRE(eventually([&] {
        const auto d = last_deployment(f);
        return d && d->getValue<std::string>("result") != "in-progress" &&
               d->getValue<std::string>("commit") == f.tip();
    }));
    const auto d = last_deployment(f);
    CHECK(d->getValue<std::string>("result") == "failed");
    const auto missing = action_of(d, "missing.service");
    REQUIRE(missing);
    CHECK(missing->getValue<std::string>("result") ==
          "failed: failed to start: exit-code at step EXEC: No such file or directory");
    CHECK(action_of(d, "good.service")->getValue<std::string>("result") == "done");
    CHECK(f.main_pid("good") > 0);
    // The reason is among the deploy's errors as well, naming the unit's file.
    const auto errors = d->getArray("errors");
    REQUIRE(errors->size() == 1);
    CHECK(errors->getObject(0)->getValue<std::string>("file") == "missing.service");
    CHECK(errors->getObject(0)->getValue<std::string>("message") ==
          "failed to start: exit-code at step EXEC: No such file or directory");

    CHECK(f.state("missing") == "failed/failed");
    const CommandResult status = f.cli("status missing");
    CHECK(status.exit_code == 3);
    CHECK(status.out.find("Active: failed (failed), result exit-code") != std::string::npos);
    const CommandResult history = f.cli("history -n 1");
    CHECK(history.out.find(
              "start missing.service (added): failed: failed to start: exit-code at step EXEC: No such "
              "file or directory\n") != std::string::npos);

    SECTION("a Type=simple unit without its program ends failed too") {
        f.write_unit("simple.service", "[Service]\nExecStart=/nonexistent/gitvisor-test-program\n");
        f.commit("a simple unit without its program");
        REQUIRE(eventually([&] { return f.state("simple") == "failed/failed"; }));
        CHECK(f.cli("status simple").exit_code == 3);
        CHECK(f.status_json("simple")->getValue<std::string>("result") == "exit-code");
    }
}

TEST_CASE("cat shows the committed text, history and list carry the documented JSON fields",
          "[daemon][cli]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    const std::string web = "# the web unit\n[Unit]\nDescription=web\n[Service]\nExecStart=/bin/sleep 1000\n";
    const std::string dropin = "[Service]\nEnvironment=MODE=test\n";
    f.write_unit("web.service", web);
    f.write_unit("web.service.d/mode.conf", dropin);
    f.commit("add web");
    REQUIRE(eventually([&] { return f.main_pid("web") > 0; }));
    // An edit that is not committed is not what runs, so `cat` does not show it.
    f.write_unit("web.service", web + "Environment=UNCOMMITTED=1\n");

    const CommandResult cat = f.cli("cat web");
    CHECK(cat.exit_code == 0);
    CHECK(cat.out.find(web) != std::string::npos);
    CHECK(cat.out.find(dropin) != std::string::npos);
    CHECK(cat.out.find("web.service.d/mode.conf") != std::string::npos);
    CHECK(cat.out.find("UNCOMMITTED") == std::string::npos);
    CHECK(f.cli("cat nope").exit_code == 4);

    const Poco::Dynamic::Var history = f.cli_json("history");
    REQUIRE_FALSE(history.isEmpty());
    const auto deployments = history.extract<Poco::JSON::Array::Ptr>();
    REQUIRE(deployments->size() >= 1);
    for (size_t i = 0; i < deployments->size(); ++i) {
        const auto d = deployments->getObject(i);
        check_keys(d, {"id", "commit", "trigger", "result", "errors", "started", "finished", "actions"});
        CHECK(d->getValue<int64_t>("id") > 0);
        CHECK(d->getValue<std::string>("commit").size() == 40);
        CHECK(d->isArray("errors"));
        CHECK(d->isArray("actions"));
        CHECK(std::regex_match(d->getValue<std::string>("started"), kRfc3339));
        CHECK(std::regex_match(d->getValue<std::string>("finished"), kRfc3339));
    }
    const auto newest = deployments->getObject(0);
    CHECK(newest->getValue<std::string>("commit") == f.tip());
    CHECK(newest->getValue<std::string>("trigger") == "commit");
    CHECK(newest->getValue<std::string>("result") == "applied");
    CHECK(newest->getArray("errors")->size() == 0);
    REQUIRE(newest->getArray("actions")->size() == 1);
    const auto action = newest->getArray("actions")->getObject(0);
    CHECK(action->getValue<std::string>("unit") == "web.service");
    CHECK(action->getValue<std::string>("action") == "start");

    const Poco::Dynamic::Var list = f.cli_json("list");
    REQUIRE_FALSE(list.isEmpty());
    const auto units = list.extract<Poco::JSON::Array::Ptr>();
    REQUIRE(units->size() == 1);
    const auto u = units->getObject(0);
    check_keys(u,
               {"name", "state", "sub_state", "result", "main_pid", "ns_pid", "exec_pid", "cgroup",
                "memory_bytes", "cpu_usec", "tasks", "restarts", "since", "commit", "spec_hash", "health"});
    CHECK(u->getValue<std::string>("name") == "web.service");
    CHECK(u->getValue<std::string>("state") == "active");
    CHECK(u->getValue<std::string>("sub_state") == "running");
    CHECK(u->getValue<std::string>("result") == "success");
    CHECK(u->getValue<int64_t>("main_pid") == f.main_pid("web"));
    CHECK(u->getValue<int64_t>("ns_pid") > 0);
    CHECK(u->getValue<int64_t>("exec_pid") > 0);
    CHECK(u->getValue<std::string>("cgroup").find(f.cgroup_parent() + "/web.service") != std::string::npos);
    CHECK_FALSE(f.cgroup_parents().empty());  // what the fixture removes at the end
    for (const char* stat : {"memory_bytes", "cpu_usec", "tasks"}) {
        INFO(stat);
        CHECK_FALSE(u->isNull(stat));
    }
    CHECK(u->getValue<int64_t>("tasks") >= 1);
    CHECK(u->getValue<int64_t>("restarts") == 0);
    CHECK(std::regex_match(u->getValue<std::string>("since"), kRfc3339));
    CHECK(u->getValue<std::string>("commit") == f.tip());
    CHECK(u->getValue<std::string>("spec_hash").size() >= 16);
    CHECK_FALSE(u->getValue<std::string>("health").empty());
    // `status UNIT --json` is the same object.
    CHECK(f.status_json("web")->getValue<std::string>("spec_hash") == u->getValue<std::string>("spec_hash"));
}
