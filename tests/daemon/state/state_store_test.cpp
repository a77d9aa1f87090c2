#include "daemon/state/state_store.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

using gitvisor::daemon::DeploymentAction;
using gitvisor::daemon::DeploymentError;
using gitvisor::daemon::DeploymentRecord;
using gitvisor::daemon::EventRecord;
using gitvisor::daemon::RunRecord;
using gitvisor::daemon::StateStore;
using gitvisor::daemon::UnitRecord;
using gitvisor::daemon::testing::open_store;
using gitvisor::daemon::testing::RawDb;
using gitvisor::daemon::testing::TempDir;

using namespace std::string_literals;

namespace {

UnitRecord sample_unit(const std::string& name) {
    UnitRecord unit;
    unit.name = name;
    unit.spec_hash = "hash-of-" + name;
    unit.commit = "0123456789abcdef0123456789abcdef01234567";
    unit.unit_json = R"({"name":")" + name + R"(","Service":{"ExecStart":["/bin/true"]}})";
    unit.unit_text = "[Service]\nExecStart=/bin/true\n";
    unit.held_stopped = true;
    unit.state = "active";
    unit.sub_state = "running";
    unit.result = "success";
    unit.exec_pid = 100;
    unit.main_pid = 101;
    unit.ns_pid = 1;
    unit.cgroup = "/gitvisor/" + name;
    unit.invocation = "inv-" + name;
    unit.since_usec = 1'700'000'000'000'000;
    unit.restarts = 3;
    return unit;
}

void check_same(const UnitRecord& a, const UnitRecord& b) {
    CHECK(a.name == b.name);
    CHECK(a.spec_hash == b.spec_hash);
    CHECK(a.commit == b.commit);
    CHECK(a.unit_json == b.unit_json);
    CHECK(a.unit_text == b.unit_text);
    CHECK(a.held_stopped == b.held_stopped);
    CHECK(a.state == b.state);
    CHECK(a.sub_state == b.sub_state);
    CHECK(a.result == b.result);
    CHECK(a.exec_pid == b.exec_pid);
    CHECK(a.main_pid == b.main_pid);
    CHECK(a.ns_pid == b.ns_pid);
    CHECK(a.cgroup == b.cgroup);
    CHECK(a.invocation == b.invocation);
    CHECK(a.since_usec == b.since_usec);
    CHECK(a.restarts == b.restarts);
}

RunRecord sample_run(const std::string& unit, int64_t started_usec) {
    RunRecord run;
    run.unit = unit;
    run.invocation = "inv-" + std::to_string(started_usec);
    run.exec_pid = 200;
    run.main_pid = 201;
    run.started_usec = started_usec;
    run.commit = "c0ffee" + std::to_string(started_usec);
    return run;
}

DeploymentRecord sample_deployment(const std::string& commit, const std::string& result) {
    DeploymentRecord deployment;
    deployment.commit = commit;
    deployment.subject = "Deploy " + commit;
    deployment.author = "Ada <ada@example.com>";
    deployment.note = "note of " + commit;
    deployment.trigger = "cli";
    deployment.uid = 1000;
    deployment.result = result;
    deployment.started_usec = 5'000;
    return deployment;
}

std::vector<std::string> names(const std::vector<UnitRecord>& units) {
    std::vector<std::string> out;
    for (const UnitRecord& unit : units) out.push_back(unit.name);
    return out;
}

std::vector<int64_t> ids(const auto& records) {
    std::vector<int64_t> out;
    for (const auto& record : records) out.push_back(record.id);
    return out;
}

}  // namespace

TEST_CASE("units round trip, by name, replaced by name and deleted", "[state]") {
    TempDir dir;
    auto store = open_store(dir.file("state.db"));
    CHECK(store->list_units().empty());
    CHECK_FALSE(store->get_unit("web.service"));

    for (const char* name : {"web.service", "db.service", "cache.service"}) {
        REQUIRE(store->put_unit(sample_unit(name)));
    }
    auto web = store->get_unit("web.service");
    REQUIRE(web);
    check_same(*web, sample_unit("web.service"));
    CHECK(names(store->list_units()) ==
          std::vector<std::string>{"cache.service", "db.service", "web.service"});

    UnitRecord changed = sample_unit("web.service");
    changed.spec_hash = "new-hash";
    changed.held_stopped = false;
    changed.state = "failed";
    changed.main_pid = 0;
    REQUIRE(store->put_unit(changed));
    check_same(*store->get_unit("web.service"), changed);
    CHECK(store->list_units().size() == 3);

    auto deleted = store->delete_unit("db.service");
    REQUIRE(deleted);
    CHECK(*deleted);
    auto deleted_again = store->delete_unit("db.service");
    REQUIRE(deleted_again);
    CHECK_FALSE(*deleted_again);
    CHECK(names(store->list_units()) == std::vector<std::string>{"cache.service", "web.service"});
}

TEST_CASE("text is stored as given, quotes, NUL bytes and all", "[state]") {
    TempDir dir;
    auto store = open_store(dir.file("state.db"));
    UnitRecord unit = sample_unit("x'); DROP TABLE units; --.service");
    unit.unit_text = "a\0b\n\"quoted\" 'single' é ✓"s;
    REQUIRE(unit.unit_text[1] == '\0');
    REQUIRE(store->put_unit(unit));
    auto stored = store->get_unit(unit.name);
    REQUIRE(stored);
    check_same(*stored, unit);
    CHECK(store->list_units().size() == 1);
}

TEST_CASE("the applied commit starts empty and is replaced", "[state]") {
    TempDir dir;
    auto store = open_store(dir.file("state.db"));
    CHECK(store->applied_commit() == "");
    REQUIRE(store->set_applied_commit("1111111"));
    CHECK(store->applied_commit() == "1111111");
    REQUIRE(store->set_applied_commit("2222222"));
    CHECK(store->applied_commit() == "2222222");
}

TEST_CASE("runs round trip, newest first, per unit and limited", "[state]") {
    TempDir dir;
    auto store = open_store(dir.file("state.db"));
    std::vector<int64_t> web_ids;
    for (int64_t started : {10, 20, 30}) {
        auto id = store->start_run(sample_run("web.service", started));
        REQUIRE(id);
        web_ids.push_back(*id);
    }
    REQUIRE(store->start_run(sample_run("db.service", 15)));
    REQUIRE(store->finish_run(web_ids[0], 11, 0, std::nullopt, "success"));
    REQUIRE(store->finish_run(web_ids[1], 25, std::nullopt, 9, "signal"));

    auto runs = store->runs_of("web.service", 10);
    CHECK(ids(runs) == std::vector<int64_t>{web_ids[2], web_ids[1], web_ids[0]});
    CHECK(ids(store->runs_of("web.service", 2)) == std::vector<int64_t>{web_ids[2], web_ids[1]});
    CHECK(store->runs_of("web.service", 0).size() == 3);
    CHECK(store->runs_of("db.service", 10).size() == 1);
    CHECK(store->runs_of("none.service", 10).empty());

    const RunRecord& unfinished = runs[0];
    CHECK(unfinished.unit == "web.service");
    CHECK(unfinished.invocation == "inv-30");
    CHECK(unfinished.commit == "c0ffee30");
    CHECK(unfinished.exec_pid == 200);
    CHECK(unfinished.main_pid == 201);
    CHECK(unfinished.started_usec == 30);
    CHECK_FALSE(unfinished.ended_usec);
    CHECK_FALSE(unfinished.exit_code);
    CHECK_FALSE(unfinished.exit_signal);
    CHECK(unfinished.result == "");

    const RunRecord& killed = runs[1];
    CHECK(killed.ended_usec == 25);
    CHECK_FALSE(killed.exit_code);
    CHECK(killed.exit_signal == 9);
    CHECK(killed.result == "signal");

    const RunRecord& exited = runs[2];
    CHECK(exited.ended_usec == 11);
    CHECK(exited.exit_code == 0);
    CHECK_FALSE(exited.exit_signal);
    CHECK(exited.result == "success");

    auto missing = store->finish_run(9999, 1, 0, std::nullopt, "success");
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == "cannot record the end of run 9999: no such run");
}

TEST_CASE("deployments round trip with their errors and actions, newest first", "[state]") {
    TempDir dir;
    auto store = open_store(dir.file("state.db"));

    DeploymentRecord rejected = sample_deployment("aaaa", "rejected");
    rejected.errors = {{"web.service", 3, "unknown directive 'ExecStrat'"}, {"db.service", 7, "bad value"}};
    rejected.finished_usec = 6'000;
    auto rejected_id = store->begin_deployment(rejected);
    REQUIRE(rejected_id);

    DeploymentRecord applied = sample_deployment("bbbb", "in-progress");
    applied.actions = {{"web.service", "start", "added", ""}};
    auto applied_id = store->begin_deployment(applied);
    REQUIRE(applied_id);
    applied.id = *applied_id;
    applied.result = "applied";
    applied.finished_usec = 9'000;
    applied.actions = {{"web.service", "start", "added", "done"},
                       {"db.service", "stop", "removed", "failed"}};
    REQUIRE(store->update_deployment(applied));

    auto third_id = store->begin_deployment(sample_deployment("cccc", "in-progress"));
    REQUIRE(third_id);

    auto all = store->deployments(10);
    REQUIRE(ids(all) == std::vector<int64_t>{*third_id, *applied_id, *rejected_id});
    CHECK(ids(store->deployments(2)) == std::vector<int64_t>{*third_id, *applied_id});
    CHECK(store->deployments(0).size() == 3);

    const DeploymentRecord& a = all[1];
    CHECK(a.commit == "bbbb");
    CHECK(a.subject == "Deploy bbbb");
    CHECK(a.author == "Ada <ada@example.com>");
    CHECK(a.note == "note of bbbb");
    CHECK(a.trigger == "cli");
    CHECK(a.uid == 1000);
    CHECK(a.result == "applied");
    CHECK(a.started_usec == 5'000);
    CHECK(a.finished_usec == 9'000);
    CHECK(a.errors.empty());
    REQUIRE(a.actions.size() == 2);
    CHECK(a.actions[0].unit == "web.service");
    CHECK(a.actions[0].action == "start");
    CHECK(a.actions[0].reason == "added");
    CHECK(a.actions[0].result == "done");
    CHECK(a.actions[1].unit == "db.service");
    CHECK(a.actions[1].action == "stop");
    CHECK(a.actions[1].reason == "removed");
    CHECK(a.actions[1].result == "failed");

    const DeploymentRecord& r = all[2];
    CHECK(r.result == "rejected");
    CHECK(r.finished_usec == 6'000);
    REQUIRE(r.errors.size() == 2);
    CHECK(r.errors[0].file == "web.service");
    CHECK(r.errors[0].line == 3);
    CHECK(r.errors[0].message == "unknown directive 'ExecStrat'");
    CHECK(r.errors[1].file == "db.service");
    CHECK(r.actions.empty());

    CHECK(all[0].result == "in-progress");
    CHECK_FALSE(all[0].finished_usec);

    DeploymentRecord missing = sample_deployment("dddd", "applied");
    missing.id = 9999;
    auto updated = store->update_deployment(missing);
    REQUIRE_FALSE(updated);
    CHECK(updated.error() == "cannot update deployment 9999: no such deployment");
}

TEST_CASE("interrupt_unfinished marks in-progress deployments interrupted and returns them", "[state]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    int64_t first = 0;
    int64_t second = 0;
    {
        auto store = open_store(path);
        REQUIRE(store->begin_deployment(sample_deployment("aaaa", "applied")));
        DeploymentRecord unfinished = sample_deployment("bbbb", "in-progress");
        unfinished.actions = {{"web.service", "restart", "changed", "done"},
                              {"db.service", "start", "added", ""}};
        first = *store->begin_deployment(unfinished);
        second = *store->begin_deployment(sample_deployment("cccc", "in-progress"));
        REQUIRE(store->begin_deployment(sample_deployment("dddd", "failed")));
    }

    auto store = open_store(path);  // as a restarted gitvisord would
    auto interrupted = store->interrupt_unfinished();
    REQUIRE(ids(interrupted) == std::vector<int64_t>{first, second});
    CHECK(interrupted[0].result == "interrupted");
    CHECK(interrupted[0].commit == "bbbb");
    CHECK_FALSE(interrupted[0].finished_usec);
    REQUIRE(interrupted[0].actions.size() == 2);
    CHECK(interrupted[0].actions[1].unit == "db.service");
    CHECK(interrupted[1].result == "interrupted");

    std::vector<std::string> results;
    for (const DeploymentRecord& d : store->deployments(0)) results.push_back(d.result);
    CHECK(results == std::vector<std::string>{"failed", "interrupted", "interrupted", "applied"});
    CHECK(store->interrupt_unfinished().empty());
}

TEST_CASE("events come oldest first after an id, limited", "[state]") {
    TempDir dir;
    auto store = open_store(dir.file("state.db"));
    CHECK(store->events_since(0, 10).empty());
    std::vector<int64_t> added;
    for (int i = 0; i < 5; ++i) {
        EventRecord event;
        event.time_usec = 1000 + i;
        event.uid = i == 0 ? -1 : 1000;
        event.kind = i == 0 ? "deploy" : "request";
        event.unit = i == 0 ? "" : "web.service";
        event.message = "event " + std::to_string(i);
        auto id = store->add_event(event);
        REQUIRE(id);
        added.push_back(*id);
    }
    CHECK(ids(store->events_since(0, 0)) == added);
    CHECK(ids(store->events_since(0, 2)) == std::vector<int64_t>{added[0], added[1]});
    CHECK(ids(store->events_since(added[2], 10)) == std::vector<int64_t>{added[3], added[4]});
    CHECK(store->events_since(added[4], 10).empty());
    CHECK(ids(store->latest_events(2)) == std::vector<int64_t>{added[3], added[4]});
    CHECK(ids(store->latest_events(0)) == added);

    auto events = store->events_since(0, 1);
    REQUIRE(events.size() == 1);
    CHECK(events[0].time_usec == 1000);
    CHECK(events[0].uid == -1);
    CHECK(events[0].kind == "deploy");
    CHECK(events[0].unit == "");
    CHECK(events[0].message == "event 0");
    auto request = store->events_since(added[0], 1);
    REQUIRE(request.size() == 1);
    CHECK(request[0].uid == 1000);
    CHECK(request[0].kind == "request");
    CHECK(request[0].unit == "web.service");
}

TEST_CASE("reopening keeps every record", "[state]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    {
        auto store = open_store(path);
        REQUIRE(store->put_unit(sample_unit("web.service")));
        REQUIRE(store->set_applied_commit("abc"));
        REQUIRE(store->start_run(sample_run("web.service", 1)));
        DeploymentRecord deployment = sample_deployment("abc", "applied");
        deployment.errors = {{"web.service", 1, "warning"}};
        REQUIRE(store->begin_deployment(deployment));
        REQUIRE(store->add_event({0, 1, 0, "request", "web.service", "start web.service: ok"}));
    }
    auto store = open_store(path);
    REQUIRE(store->get_unit("web.service"));
    check_same(*store->get_unit("web.service"), sample_unit("web.service"));
    CHECK(store->applied_commit() == "abc");
    CHECK(store->runs_of("web.service", 10).size() == 1);
    auto deployments = store->deployments(10);
    REQUIRE(deployments.size() == 1);
    CHECK(deployments[0].errors.size() == 1);
    auto events = store->events_since(0, 10);
    REQUIRE(events.size() == 1);
    CHECK(events[0].message == "start web.service: ok");
}

TEST_CASE("concurrent writes from several threads lose nothing", "[state]") {
    TempDir dir;
    auto store = open_store(dir.file("state.db"));
    constexpr int kThreads = 8;
    constexpr int kWrites = 100;
    std::vector<std::vector<int64_t>> event_ids(kThreads);
    std::vector<int> failures(kThreads, 0);
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                const std::string unit = "unit" + std::to_string(t) + ".service";
                for (int i = 0; i < kWrites; ++i) {
                    auto event = store->add_event({0, i, t, "request", unit, std::to_string(i)});
                    if (event) event_ids[t].push_back(*event);
                    auto run = store->start_run(sample_run(unit, i));
                    if (!event || !run || !store->finish_run(*run, i + 1, 0, std::nullopt, "success") ||
                        !store->put_unit(sample_unit(unit))) {
                        ++failures[t];
                    }
                }
            });
        }
    }
    CHECK(failures == std::vector<int>(kThreads, 0));

    auto events = store->events_since(0, 0);
    CHECK(events.size() == kThreads * kWrites);
    std::set<int64_t> stored;
    for (const EventRecord& event : events) stored.insert(event.id);
    for (const auto& ids_of_thread : event_ids) {
        CHECK(ids_of_thread.size() == kWrites);
        for (int64_t id : ids_of_thread) CHECK(stored.count(id) == 1);
    }
    for (int t = 0; t < kThreads; ++t) {
        auto runs = store->runs_of("unit" + std::to_string(t) + ".service", 0);
        CHECK(runs.size() == kWrites);
        for (const RunRecord& run : runs) CHECK(run.result == "success");
    }
    CHECK(store->list_units().size() == kThreads);
}

TEST_CASE("a write that fails half-way leaves nothing behind", "[state]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    { open_store(path); }
    {
        RawDb(path).exec(
            "CREATE TRIGGER refuse_actions BEFORE INSERT ON deployment_actions "
            "BEGIN SELECT RAISE(ABORT, 'actions refused'); END");
    }
    auto store = open_store(path);
    DeploymentRecord deployment = sample_deployment("aaaa", "in-progress");
    deployment.errors = {{"web.service", 1, "kept only with its deployment"}};
    deployment.actions = {{"web.service", "start", "added", ""}};
    auto begun = store->begin_deployment(deployment);
    REQUIRE_FALSE(begun);
    CHECK(begun.error() == "cannot record the deployment of 'aaaa': actions refused");
    CHECK(store->deployments(0).empty());
    CHECK(RawDb(path).integer("SELECT count(*) FROM deployment_errors") == 0);

    deployment.actions.clear();
    REQUIRE(store->begin_deployment(deployment));
    CHECK(store->deployments(0).size() == 1);
}

TEST_CASE("a write waits for another connection's lock instead of failing", "[state]") {
    TempDir dir;
    const std::string path = dir.file("state.db");
    auto store = open_store(path);
    RawDb other(path);
    other.exec("BEGIN IMMEDIATE");
    std::jthread release([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        sqlite3_exec(other.get(), "COMMIT", nullptr, nullptr, nullptr);
    });
    auto id = store->add_event({0, 1, 0, "request", "", "written once the lock is free"});
    INFO(id.error());
    CHECK(id);
}
