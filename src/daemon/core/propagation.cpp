// `gitvisor start|stop|restart` with systemd's propagation (DESIGN §4, man systemd.unit):
//  - start X starts what X Requires=, Wants= and BindsTo= first (dependencies before dependents), fails when
//    a Requisite= is not active or a required unit cannot start (a wanted one may fail), and stops the units
//    that conflict with what it starts (Conflicts=, either side);
//  - stop X stops first the units that Requires=, BindsTo= or are PartOf= X, and theirs, dependents first;
//  - restart X restarts with it the units PartOf= or BindsTo= X.
// The graph is the applied commit's; units stopped along the way are held stopped as X is.

#include <algorithm>
#include <functional>
#include <set>

#include "common/exit_codes.h"
#include "daemon/core/daemon.h"
#include "daemon/core/responses.h"

namespace gitvisor::daemon {
namespace {

std::vector<std::string> list_of(const unitfile::Unit& unit, const char* key) {
    const auto* v = unit.get<std::vector<std::string>>("Unit", key);
    return v ? *v : std::vector<std::string>{};
}

}  // namespace

std::map<std::string, UnitDependencies> Daemon::dependency_graph() {
    std::map<std::string, UnitDependencies> graph;
    const std::string applied = m_store->applied_commit();
    if (applied.empty() || !load_commit(applied)) return graph;
    std::set<std::string> deployed;
    for (const UnitRecord& r : m_store->list_units()) deployed.insert(r.name);
    for (const unitfile::LoadedUnit& u : m_loaded_set->units) {
        if (!deployed.count(u.unit.name)) continue;  // not for this host (ConditionHost=)
        UnitDependencies& d = graph[u.unit.name];
        const auto keep = [&](std::vector<std::string> names) {
            std::erase_if(names, [&](const std::string& n) { return !deployed.count(n); });  // targets, other hosts
            return names;
        };
        d.requires_ = keep(list_of(u.unit, "Requires"));
        d.wants = keep(list_of(u.unit, "Wants"));
        d.binds_to = keep(list_of(u.unit, "BindsTo"));
        d.part_of = keep(list_of(u.unit, "PartOf"));
        d.requisite = keep(list_of(u.unit, "Requisite"));
        d.conflicts = keep(list_of(u.unit, "Conflicts"));
        d.after = keep(list_of(u.unit, "After"));
        d.before = keep(list_of(u.unit, "Before"));
    }
    return graph;
}

namespace {

// X and every unit whose stop X's stop propagates to, dependents before what they depend on.
std::vector<std::string> stop_order(const std::map<std::string, UnitDependencies>& graph, const std::string& unit) {
    std::vector<std::string> order;
    std::set<std::string> seen;
    std::function<void(const std::string&)> visit = [&](const std::string& u) {
        if (!seen.insert(u).second) return;
        for (const auto& [name, d] : graph) {
            const auto names = [&](const std::vector<std::string>& l) { return std::find(l.begin(), l.end(), u) != l.end(); };
            if (names(d.requires_) || names(d.binds_to) || names(d.part_of)) visit(name);
        }
        order.push_back(u);
    };
    visit(unit);
    return order;
}

// What X's start pulls in (Requires=, Wants=, BindsTo=, transitively) and X, dependencies first; `wanted`
// gets the units pulled in only by Wants= (their failure does not fail X).
std::vector<std::string> start_order(const std::map<std::string, UnitDependencies>& graph, const std::string& unit,
                                     std::set<std::string>& wanted) {
    std::vector<std::string> order;
    std::set<std::string> seen;
    std::function<void(const std::string&, bool)> visit = [&](const std::string& u, bool only_wanted) {
        if (!seen.insert(u).second) {
            if (!only_wanted) wanted.erase(u);
            return;
        }
        if (only_wanted) wanted.insert(u);
        if (const auto it = graph.find(u); it != graph.end()) {
            for (const std::string& r : it->second.requires_) visit(r, only_wanted);
            for (const std::string& b : it->second.binds_to) visit(b, only_wanted);
            for (const std::string& w : it->second.wants) visit(w, true);
        }
        order.push_back(u);
    };
    visit(unit, false);
    return order;
}

}  // namespace

Result<bool> Daemon::start_with_dependencies(const std::string& unit, const std::string& reason,
                                             const std::string& marker, std::vector<std::string>& started) {
    const std::map<std::string, UnitDependencies> graph = dependency_graph();
    if (const auto it = graph.find(unit); it != graph.end()) {
        for (const std::string& r : it->second.requisite) {
            const std::optional<UnitRecord> rec = m_store->get_unit(r);
            if (!rec || rec->state != "active")
                return Result<bool>::fail("its Requisite= " + r + " is not active (" + (rec ? rec->state : "absent") + ")");
        }
    }
    std::set<std::string> wanted;
    for (const std::string& u : start_order(graph, unit, wanted)) {
        // Units that conflict with it go first (Conflicts= on either side).
        for (const auto& [name, d] : graph) {
            const auto it = graph.find(u);
            const bool conflict = std::find(d.conflicts.begin(), d.conflicts.end(), u) != d.conflicts.end() ||
                                  (it != graph.end() && std::find(it->second.conflicts.begin(), it->second.conflicts.end(),
                                                                  name) != it->second.conflicts.end());
            if (conflict && name != u && m_supervisor->running(name)) {
                set_held(name, true);
                (void)stop_unit(name);
            }
        }
        if (m_supervisor->running(u)) continue;
        if (u != unit) set_held(u, false);
        const Result<bool> r = start_unit(u, u == unit ? reason : "dependency of " + unit, marker);
        if (!r && u != unit && !wanted.count(u)) return Result<bool>::fail("its dependency " + u + " did not start: " + r.error());
        if (!r && u == unit) return r;
        if (r) started.push_back(u);
    }
    return Result<bool>::ok(true);
}

Result<bool> Daemon::stop_with_dependents(const std::string& unit, std::vector<std::string>& stopped) {
    const std::map<std::string, UnitDependencies> graph = dependency_graph();
    std::string errors;
    for (const std::string& u : stop_order(graph, unit)) {
        set_held(u, true);
        if (!m_supervisor->running(u)) continue;
        if (Result<bool> r = stop_unit(u); !r) {
            errors += (errors.empty() ? "" : "; ") + u + ": " + r.error();
        } else if (u != unit) {
            stopped.push_back(u);
        }
    }
    if (!errors.empty()) return Result<bool>::fail(errors);
    return Result<bool>::ok(true);
}

// Restart propagates to the units PartOf= or BindsTo= X (systemd), which restart after X.
std::vector<std::string> Daemon::restart_followers(const std::string& unit) {
    std::vector<std::string> followers;
    for (const auto& [name, d] : dependency_graph()) {
        const auto names = [&](const std::vector<std::string>& l) { return std::find(l.begin(), l.end(), unit) != l.end(); };
        if (names(d.part_of) || names(d.binds_to)) followers.push_back(name);
    }
    return followers;
}

void Daemon::set_held(const std::string& unit, bool held) {
    std::lock_guard records_lock(m_records_mutex);
    std::optional<UnitRecord> record = m_store->get_unit(unit);
    if (!record || record->held_stopped == held) return;
    record->held_stopped = held;
    (void)m_store->put_unit(*record);
}

}  // namespace gitvisor::daemon

namespace gitvisor::daemon {

// `gitvisor tree [UNIT]`: each unit with what it pulls in (Requires=, Wants=, BindsTo=, Requisite=, PartOf=)
// and their states; without UNIT, from the units nothing else pulls in. A unit met again is not expanded.
Poco::JSON::Object::Ptr Daemon::handle_tree(const Poco::JSON::Object::Ptr& request) {
    using Poco::JSON::Array;
    using Poco::JSON::Object;
    std::lock_guard lock(m_deploy_mutex);  // load_commit
    const std::map<std::string, UnitDependencies> graph = dependency_graph();
    std::vector<std::string> roots;
    if (request->has("unit")) {
        std::string unit = request->getValue<std::string>("unit");
        if (!unit.ends_with(".service")) unit += ".service";
        if (!m_store->get_unit(unit)) return error_response(kExitNoSuchUnit, "no such unit '" + unit + "'");
        roots.push_back(unit);
    } else {
        std::set<std::string> pulled;
        for (const auto& [name, d] : graph)
            for (const auto* list : {&d.requires_, &d.wants, &d.binds_to, &d.requisite})
                pulled.insert(list->begin(), list->end());
        for (const UnitRecord& r : m_store->list_units())
            if (!pulled.count(r.name)) roots.push_back(r.name);
    }
    std::set<std::string> expanded;
    std::function<Object::Ptr(const std::string&)> node = [&](const std::string& unit) {
        Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        o->set("name", unit);
        const std::optional<UnitRecord> r = m_store->get_unit(unit);
        o->set("state", r ? r->state : std::string("absent"));
        o->set("sub_state", r ? r->sub_state : std::string());
        o->set("health", r && r->exec_pid > 0 ? health_of(unit) : std::string("none"));
        Array::Ptr edges = new Array;
        const bool first = expanded.insert(unit).second;
        o->set("repeated", !first);
        if (const auto it = graph.find(unit); first && it != graph.end()) {
            const std::pair<const char*, const std::vector<std::string>*> kinds[] = {
                {"Requires", &it->second.requires_}, {"BindsTo", &it->second.binds_to},
                {"Requisite", &it->second.requisite}, {"Wants", &it->second.wants}, {"PartOf", &it->second.part_of}};
            for (const auto& [kind, list] : kinds)
                for (const std::string& target : *list) {
                    Object::Ptr edge = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
                    edge->set("kind", kind);
                    edge->set("unit", node(target));
                    edges->add(edge);
                }
        }
        o->set("dependencies", edges);
        return o;
    };
    Array::Ptr tree = new Array;
    for (const std::string& root : roots) tree->add(node(root));
    Object::Ptr response = ok_response();
    response->set("tree", tree);
    return response;
}

}  // namespace gitvisor::daemon
