#include "daemon/plan/plan.h"

#include <algorithm>
#include <set>

namespace gitvisor::daemon {
namespace {

const std::vector<std::string>& list_of(const unitfile::Unit* unit, const char* key) {
    static const std::vector<std::string> none;
    if (!unit) return none;
    const auto* v = unit->get<std::vector<std::string>>("Unit", key);
    return v ? *v : none;
}

// Edges "a before b" among `members`, from After=/Before= of the units we know.
std::map<std::string, std::set<std::string>> ordering(const std::set<std::string>& members,
                                                      const std::map<std::string, const unitfile::Unit*>& units) {
    std::map<std::string, std::set<std::string>> before;
    for (const std::string& m : members) before[m];
    for (const auto& [name, unit] : units) {
        if (!members.count(name)) continue;
        for (const std::string& dep : list_of(unit, "After"))
            if (members.count(dep) && dep != name) before[dep].insert(name);
        for (const std::string& dep : list_of(unit, "Before"))
            if (members.count(dep) && dep != name) before[name].insert(dep);
    }
    return before;
}

// Kahn's layering: each wave holds the units whose predecessors are all in earlier waves. Units left in
// a cycle (rejected earlier by verification, so only defensive here) go into a final wave.
std::vector<std::vector<std::string>> waves(const std::map<std::string, std::set<std::string>>& before) {
    std::map<std::string, int> indegree;
    for (const auto& [a, targets] : before) {
        indegree.try_emplace(a, 0);
        for (const std::string& b : targets) indegree[b]++;
    }
    std::vector<std::vector<std::string>> out;
    std::set<std::string> done;
    while (done.size() < indegree.size()) {
        std::vector<std::string> wave;
        for (const auto& [name, degree] : indegree)
            if (degree == 0 && !done.count(name)) wave.push_back(name);
        if (wave.empty()) {
            for (const auto& [name, degree] : indegree)
                if (!done.count(name)) wave.push_back(name);
        }
        for (const std::string& name : wave) {
            done.insert(name);
            auto it = before.find(name);
            if (it != before.end())
                for (const std::string& next : it->second) indegree[next]--;
        }
        out.push_back(std::move(wave));
    }
    return out;
}

}  // namespace

const char* step_action_name(StepAction action) {
    switch (action) {
        case StepAction::Start: return "start";
        case StepAction::Stop: return "stop";
        case StepAction::Restart: return "restart";
        case StepAction::Load: return "load";
    }
    return "?";
}

const PlanStep* Plan::find(const std::string& unit) const {
    for (const PlanStep& s : steps)
        if (s.unit == unit) return &s;
    return nullptr;
}

Plan make_plan(const std::map<std::string, AppliedUnit>& applied, const std::map<std::string, DesiredUnit>& desired) {
    // Rule 5: the units only OnFailure= names.
    std::set<std::string> pulled_in, on_failure;
    for (const auto& [name, d] : desired)
        for (const std::string& target : list_of(d.unit, "OnFailure")) on_failure.insert(target);
    if (!on_failure.empty()) {  // most commits have none: no second pass over 10,000 units
        for (const auto& [name, d] : desired)
            for (const char* key : {"Requires", "Wants", "BindsTo"})
                for (const std::string& dep : list_of(d.unit, key)) pulled_in.insert(dep);
    }
    std::map<std::string, PlanStep> steps;
    for (const auto& [name, d] : desired) {
        auto a = applied.find(name);
        if (on_failure.count(name) && !pulled_in.count(name)) {
            if (a == applied.end()) {
                steps[name] = {name, StepAction::Load, "added; started when a unit names it in OnFailure= fails"};
            } else if (a->second.spec_hash != d.spec_hash) {
                steps[name] = {name, a->second.running ? StepAction::Restart : StepAction::Load, "changed"};
            }
            continue;
        }
        if (a == applied.end()) {
            steps[name] = {name, StepAction::Start, "added"};
        } else if (a->second.spec_hash != d.spec_hash) {
            steps[name] = {name, a->second.held_stopped ? StepAction::Start : StepAction::Restart, "changed"};
        } else if (a->second.needs_start && !a->second.held_stopped) {
            steps[name] = {name, StepAction::Start, "not running"};
        }
    }
    for (const auto& [name, a] : applied)
        if (!desired.count(name)) steps[name] = {name, StepAction::Stop, "removed"};

    // Rule 3: restarts propagate to units that Requires=/BindsTo=/PartOf= a changed unit, transitively.
    std::vector<std::string> queue;
    for (const auto& [name, s] : steps)
        if (s.reason == "changed") queue.push_back(name);
    while (!queue.empty()) {
        const std::string changed = queue.back();
        queue.pop_back();
        for (const auto& [name, d] : desired) {
            if (steps.count(name)) continue;
            const auto a = applied.find(name);
            if (a == applied.end() || a->second.held_stopped) continue;
            for (const char* key : {"Requires", "BindsTo", "PartOf"}) {
                const auto& deps = list_of(d.unit, key);
                if (std::find(deps.begin(), deps.end(), changed) != deps.end()) {
                    steps[name] = {name, StepAction::Restart, "dependency"};
                    queue.push_back(name);
                    break;
                }
            }
        }
    }

    Plan plan;
    std::set<std::string> stopping, starting;
    std::map<std::string, const unitfile::Unit*> units;
    for (const auto& [name, d] : desired) units[name] = d.unit;
    for (const auto& [name, s] : steps) {
        plan.steps.push_back(s);
        if (s.action == StepAction::Stop || s.action == StepAction::Restart) stopping.insert(name);
        if (s.action == StepAction::Start || s.action == StepAction::Restart) starting.insert(name);
    }
    plan.start_waves = waves(ordering(starting, units));
    // Stops run in reverse: a unit stops before the units it was ordered after. Removed units are no longer
    // in the commit; without their unit text they stop in the first wave.
    auto stop_waves = waves(ordering(stopping, units));
    std::reverse(stop_waves.begin(), stop_waves.end());
    plan.stop_waves = std::move(stop_waves);
    std::erase_if(plan.start_waves, [](const auto& w) { return w.empty(); });
    std::erase_if(plan.stop_waves, [](const auto& w) { return w.empty(); });
    return plan;
}

}  // namespace gitvisor::daemon
