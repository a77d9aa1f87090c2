#pragma once
// Deploy planning (DESIGN §3) as a pure function: what runs now and the desired state of a commit in,
// the ordered steps out. No processes, files or clocks, so every rule is tested directly.
//
// Rules, in order:
//  1. A unit in the commit but not applied starts ("added").
//  2. An applied unit not in the commit stops and is forgotten ("removed").
//  3. A unit whose spec hash changed restarts ("changed"), and so do the units that Requires=, BindsTo=
//     or PartOf= it, transitively ("dependency"). A change also ends a `gitvisor stop` hold.
//  4. An unchanged unit is left alone, except one marked needs_start (its supervisor vanished while it
//     should have run, e.g. after a reboot), which starts ("not running") unless it is held stopped.
//  5. A unit that only other units' OnFailure= name (no Requires=, Wants= or BindsTo= of the commit pulls
//     it in) is started when one of them fails, not by a deploy, as systemd does not start it at boot: added
//     or changed, it is loaded ("load": recorded, not started); a changed one that runs restarts.
// Steps come in waves: all stops (of stopped and restarted units) first, in reverse ordering, then all
// starts in ordering (After=/Before= between units of the plan); the units of one wave are independent
// and may run in parallel.

#include <map>
#include <string>
#include <vector>

#include "unitfile/unit.h"

namespace gitvisor::daemon {

struct AppliedUnit {
    std::string spec_hash;
    bool held_stopped = false;
    bool needs_start = false;
    bool running = false;
};

struct DesiredUnit {
    std::string spec_hash;
    const unitfile::Unit* unit = nullptr;  // for dependencies and ordering
};

enum class StepAction { Start, Stop, Restart, Load };
const char* step_action_name(StepAction action);  // "start", "stop", "restart", "load"

struct PlanStep {
    std::string unit;
    StepAction action = StepAction::Start;
    std::string reason;  // added, removed, changed, dependency, not running
    bool operator==(const PlanStep&) const = default;
};

struct Plan {
    std::vector<PlanStep> steps;                   // every step once, by unit name
    std::vector<std::vector<std::string>> stop_waves;   // units to stop, wave by wave (stops and restarts)
    std::vector<std::vector<std::string>> start_waves;  // units to start, wave by wave (starts and restarts)
    bool empty() const { return steps.empty(); }
    const PlanStep* find(const std::string& unit) const;
};

Plan make_plan(const std::map<std::string, AppliedUnit>& applied,
               const std::map<std::string, DesiredUnit>& desired);

}  // namespace gitvisor::daemon
