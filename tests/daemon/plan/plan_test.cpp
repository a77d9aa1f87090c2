#include "daemon/plan/plan.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "unitfile/unit_loader.h"

using namespace gitvisor::daemon;
using namespace gitvisor::unitfile;
using Waves = std::vector<std::vector<std::string>>;

namespace {

// Units built from real unit text; the spec hash is given directly to keep each case readable.
struct Fixture {
    std::map<std::string, Unit> units;
    std::map<std::string, DesiredUnit> desired;
    std::map<std::string, AppliedUnit> applied;

    void want(const std::string& name, const std::string& hash, const std::string& unit_section = "") {
        LoadedUnit u = load_unit(name, {name, "[Unit]\n" + unit_section + "\n[Service]\nExecStart=/bin/true\n"}, {},
                                 SpecifierContext{});
        REQUIRE(u.ok());
        units[name] = u.unit;
        desired[name] = {hash, &units[name]};
    }
    void have(const std::string& name, const std::string& hash, bool held = false, bool needs_start = false,
              bool running = true) {
        applied[name] = {hash, held, needs_start, running};
    }
    Plan plan() const { return make_plan(applied, desired); }
};

}  // namespace

TEST_CASE("added units start, removed stop, changed restart, unchanged stay", "[plan]") {
    Fixture f;
    f.want("new.service", "h1");
    f.want("changed.service", "h2");
    f.want("same.service", "h3");
    f.have("changed.service", "old");
    f.have("same.service", "h3");
    f.have("gone.service", "h4");
    const Plan p = f.plan();
    CHECK(p.steps == std::vector<PlanStep>{
                         {"changed.service", StepAction::Restart, "changed"},
                         {"gone.service", StepAction::Stop, "removed"},
                         {"new.service", StepAction::Start, "added"},
                     });
    CHECK(p.stop_waves == Waves{{"changed.service", "gone.service"}});
    CHECK(p.start_waves == Waves{{"changed.service", "new.service"}});
}

TEST_CASE("an identical commit plans nothing", "[plan]") {
    Fixture f;
    f.want("a.service", "h");
    f.have("a.service", "h");
    CHECK(f.plan().empty());
}

TEST_CASE("starts follow After= in waves, stops run in reverse", "[plan]") {
    Fixture f;
    f.want("db.service", "1");
    f.want("migrate.service", "2", "After=db.service");
    f.want("web.service", "3", "After=migrate.service db.service");
    f.want("worker.service", "4", "Before=web.service");
    f.want("cache.service", "5");
    const Plan start = f.plan();
    CHECK(start.start_waves == Waves{{"cache.service", "db.service", "worker.service"}, {"migrate.service"},
                                     {"web.service"}});
    // Everything changes: stops are the start waves reversed.
    for (auto& [name, d] : f.desired) f.have(name, "old");
    const Plan restart = f.plan();
    CHECK(restart.stop_waves == Waves{{"web.service"}, {"migrate.service"},
                                      {"cache.service", "db.service", "worker.service"}});
}

TEST_CASE("ordering against a unit outside the plan does not wait", "[plan]") {
    Fixture f;
    f.want("db.service", "1");
    f.want("web.service", "2", "After=db.service");
    f.have("db.service", "1");
    const Plan p = f.plan();
    CHECK(p.start_waves == Waves{{"web.service"}});
}

TEST_CASE("a changed unit restarts the units that Requires=, BindsTo= or PartOf= it", "[plan]") {
    Fixture f;
    f.want("db.service", "new");
    f.want("api.service", "a", "Requires=db.service\nAfter=db.service");
    f.want("cron.service", "c", "PartOf=api.service");
    f.want("sidecar.service", "s", "BindsTo=db.service");
    f.want("loose.service", "l", "Wants=db.service\nAfter=db.service");
    f.have("db.service", "old");
    f.have("api.service", "a");
    f.have("cron.service", "c");
    f.have("sidecar.service", "s");
    f.have("loose.service", "l");
    const Plan p = f.plan();
    CHECK(p.steps == std::vector<PlanStep>{
                         {"api.service", StepAction::Restart, "dependency"},
                         {"cron.service", StepAction::Restart, "dependency"},
                         {"db.service", StepAction::Restart, "changed"},
                         {"sidecar.service", StepAction::Restart, "dependency"},
                     });
    CHECK(p.start_waves == Waves{{"cron.service", "db.service", "sidecar.service"}, {"api.service"}});
    CHECK(p.stop_waves == Waves{{"api.service"}, {"cron.service", "db.service", "sidecar.service"}});
}

TEST_CASE("a held unit stays stopped unless the commit changes it", "[plan]") {
    Fixture f;
    f.want("held.service", "h");
    f.want("other.service", "new");
    f.have("held.service", "h", true);
    f.have("other.service", "old");
    CHECK(f.plan().steps == std::vector<PlanStep>{{"other.service", StepAction::Restart, "changed"}});
    f.desired["held.service"].spec_hash = "h2";
    CHECK(f.plan().find("held.service")->action == StepAction::Start);
}

TEST_CASE("units whose supervisor vanished start again", "[plan]") {
    Fixture f;
    f.want("a.service", "h");
    f.want("b.service", "h");
    f.have("a.service", "h", false, true);
    f.have("b.service", "h", true, true);  // held: stays stopped
    CHECK(f.plan().steps == std::vector<PlanStep>{{"a.service", StepAction::Start, "not running"}});
}

TEST_CASE("a unit only OnFailure= names is loaded, not started, unless something pulls it in", "[plan]") {
    Fixture f;
    f.want("web.service", "w", "OnFailure=alert.service page.service");
    f.want("alert.service", "a");
    f.want("page.service", "p");
    f.want("api.service", "x", "Wants=page.service");  // page is also pulled in: it starts
    Plan p = f.plan();
    REQUIRE(p.find("alert.service") != nullptr);
    CHECK(p.find("alert.service")->action == StepAction::Load);
    CHECK(std::string(step_action_name(StepAction::Load)) == "load");
    CHECK(p.find("page.service")->action == StepAction::Start);
    for (const auto& wave : p.start_waves)
        CHECK(std::find(wave.begin(), wave.end(), "alert.service") == wave.end());

    // Changed: loaded again while it does not run, restarted while it runs (an alert being sent).
    Fixture g;
    g.want("web.service", "w", "OnFailure=alert.service");
    g.want("alert.service", "a2");
    g.have("web.service", "w");
    g.have("alert.service", "a1", false, false, false);
    CHECK(g.plan().find("alert.service")->action == StepAction::Load);
    g.have("alert.service", "a1", false, false, true);
    CHECK(g.plan().find("alert.service")->action == StepAction::Restart);
    // Unchanged and marked to start (after a reboot): nothing, it waits for a failure.
    g.have("alert.service", "a2", false, true, false);
    CHECK(g.plan().find("alert.service") == nullptr);
}
