// Control requests (DESIGN §7): one JSON object in, one out. Reading is open to every caller; changes need
// root or the gitvisor group. Every request is recorded with the caller's uid.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>

#include "common/exit_codes.h"
#include "common/time_format.h"
#include "daemon/core/daemon.h"
#include "daemon/core/responses.h"
#include "repo/commit_tree.h"
#include "repo/rollback.h"
#include "unitfile/unit_name.h"

namespace gitvisor::daemon {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr ok() { return ok_response(); }
Object::Ptr fail(int code, const std::string& message) { return error_response(code, message); }

Object::Ptr permission_denied(const std::string& cmd, const Caller& caller) {
    return fail(kExitPermissionDenied, "permission denied: '" + cmd +
                                           "' needs root or membership of the gitvisor group (uid " +
                                           std::to_string(caller.uid) + ")");
}

// "web" and "web.service" name the same unit.
std::string unit_name(std::string name) {
    if (!unitfile::is_valid_unit_name(name)) name += ".service";
    return name;
}

std::string description_of(const std::string& unit_json) {
    try {
        Poco::JSON::Parser parser;
        const auto o = parser.parse(unit_json).extract<Object::Ptr>();
        const auto unit = o->getObject("sections")->getObject("Unit");
        return unit ? unit->optValue<std::string>("Description", "") : "";
    } catch (const std::exception&) {
        return "";
    }
}

std::vector<std::string> names_of(const Object::Ptr& request) {
    std::vector<std::string> out;
    if (auto units = request->getArray("units"))
        for (size_t i = 0; i < units->size(); ++i) out.push_back(unit_name(units->getElement<std::string>(i)));
    if (request->has("unit")) out.push_back(unit_name(request->getValue<std::string>("unit")));
    return out;
}

}  // namespace

Object::Ptr Daemon::unit_json(const UnitRecord& r) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("name", r.name);
    o->set("description", description_of(r.unit_json));
    o->set("state", r.state);
    o->set("sub_state", r.sub_state);
    o->set("result", r.result);
    o->set("main_pid", r.main_pid);
    o->set("ns_pid", r.ns_pid);
    o->set("exec_pid", r.exec_pid);
    o->set("cgroup", r.cgroup);
    const bool running = r.exec_pid > 0 && m_supervisor->cgroups().layout() != CgroupLayout::None;
    const CgroupStats stats = running ? m_supervisor->cgroups().locate(r.name).stats() : CgroupStats{};
    const auto number_or_null = [&](const char* key, const std::optional<uint64_t>& v) {
        if (v) {
            o->set(key, static_cast<int64_t>(*v));
        } else {
            o->set(key, Poco::Dynamic::Var());
        }
    };
    number_or_null("memory_bytes", stats.memory_bytes);
    number_or_null("cpu_usec", stats.cpu_usec);
    number_or_null("tasks", stats.tasks);
    o->set("restarts", r.restarts);
    o->set("since", format_rfc3339(r.since_usec));
    o->set("since_usec", r.since_usec);
    o->set("commit", r.commit);
    o->set("spec_hash", r.spec_hash);
    std::string health_detail;
    o->set("health", r.exec_pid > 0 ? health_of(r.name, &health_detail) : std::string("none"));
    o->set("health_detail", health_detail);
    o->set("invocation", r.invocation);
    const std::optional<ExecStatus> live = r.exec_pid > 0 ? m_supervisor->status(r.name) : std::nullopt;
    o->set("status_text", live ? live->status_text : std::string());
    o->set("held_stopped", r.held_stopped);
    return o;
}

Object::Ptr Daemon::deployment_json(const DeploymentRecord& d) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("id", d.id);
    o->set("commit", d.commit);
    o->set("subject", d.subject);
    o->set("author", d.author);
    o->set("trigger", d.trigger);
    o->set("uid", d.uid);
    o->set("result", d.result);
    o->set("note", d.note);
    Array::Ptr errors = new Array;
    for (const DeploymentError& e : d.errors) {
        Object::Ptr eo = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        eo->set("file", e.file);
        eo->set("line", e.line);
        eo->set("message", e.message);
        errors->add(eo);
    }
    o->set("errors", errors);
    o->set("started", format_rfc3339(d.started_usec));
    o->set("finished", d.finished_usec ? format_rfc3339(*d.finished_usec) : "");
    o->set("duration_ms", d.finished_usec ? (*d.finished_usec - d.started_usec) / 1000 : int64_t{-1});
    Array::Ptr actions = new Array;
    for (const DeploymentAction& a : d.actions) {
        Object::Ptr ao = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        ao->set("unit", a.unit);
        ao->set("action", a.action);
        ao->set("reason", a.reason);
        ao->set("result", a.result);
        actions->add(ao);
    }
    o->set("actions", actions);
    return o;
}

// `reset-failed [UNIT...]`: failed units (all of them when none is named) become inactive (dead), as after a
// clean stop; the next start begins with a fresh start-limit count.
Object::Ptr Daemon::handle_reset_failed(const Object::Ptr& request, const Caller& caller) {
    if (!caller.may_change) return permission_denied("reset-failed", caller);
    std::vector<std::string> names = names_of(request);
    std::lock_guard lock(m_records_mutex);
    if (names.empty())
        for (const UnitRecord& r : m_store->list_units()) names.push_back(r.name);
    Array::Ptr reset = new Array;
    for (const std::string& name : names) {
        std::optional<UnitRecord> r = m_store->get_unit(name);
        if (!r) return fail(kExitNoSuchUnit, "no such unit '" + name + "' in the deployed commit");
        if (r->state != "failed") continue;
        r->state = "inactive";
        r->sub_state = "dead";
        r->result = "success";
        r->since_usec = realtime_usec();
        (void)m_store->put_unit(*r);
        reset->add(name);
    }
    Object::Ptr response = ok();
    response->set("reset", reset);
    return response;
}

// `reload` (ExecReload=, waited for) and `kill` (a signal to the main process or to every process).
Object::Ptr Daemon::handle_signal(const std::string& cmd, const Object::Ptr& request, const Caller& caller) {
    if (!caller.may_change) return permission_denied(cmd, caller);
    const std::vector<std::string> names = names_of(request);
    if (names.empty()) return fail(kExitUsage, "'" + cmd + "' needs at least one unit");
    for (const std::string& name : names)
        if (!m_store->get_unit(name)) return fail(kExitNoSuchUnit, "no such unit '" + name + "' in the deployed commit");
    const int64_t signal = request->optValue<int64_t>("signal", 15);
    const std::string whom = request->optValue<std::string>("whom", "all");
    if (cmd == "kill" && (signal < 1 || signal > 64)) return fail(kExitUsage, "invalid signal " + std::to_string(signal));
    if (cmd == "kill" && whom != "all" && whom != "main") return fail(kExitUsage, "--kill-whom is main or all");
    std::vector<std::string> errors;
    for (const std::string& name : names) {
        Result<bool> done = Result<bool>::ok(true);
        if (cmd == "reload") {
            const unitfile::Unit* unit = find_loaded(name);
            const int64_t timeout = timeout_usec(unit, "TimeoutStartSec", 90 * unitfile::kUsecPerSec);
            done = m_supervisor->ask(name, "{\"op\":\"reload\"}",
                                     timeout < 0 ? 24 * 3600 * 1000 : static_cast<int>(timeout / 1000) + 1000);
        } else {
            done = m_supervisor->ask(name, "{\"op\":\"kill\",\"signal\":" + std::to_string(signal) + ",\"whom\":\"" +
                                               whom + "\"}",
                                     5000);
        }
        if (!done) errors.push_back(name + ": " + done.error());
    }
    if (!errors.empty()) {
        std::string message = "cannot " + cmd + " ";
        for (size_t i = 0; i < errors.size(); ++i) message += (i ? "; " : "") + errors[i];
        return fail(kExitFailure, message);
    }
    return ok();
}

Object::Ptr Daemon::handle_change(const std::string& cmd, const Object::Ptr& request, const Caller& caller) {
    if (!caller.may_change) return permission_denied(cmd, caller);
    std::vector<std::string> names = names_of(request);
    const bool all = request->optValue<bool>("all", false);
    if (names.empty() && !all) return fail(kExitUsage, "'" + cmd + "' needs at least one unit (or --all)");
    std::lock_guard lock(m_deploy_mutex);
    if (all)
        for (const UnitRecord& r : m_store->list_units()) names.push_back(r.name);
    for (const std::string& name : names)
        if (!m_store->get_unit(name))
            return fail(kExitNoSuchUnit, "no such unit '" + name + "' in the deployed commit");
    std::vector<std::string> errors;
    std::vector<std::string> also_started, also_stopped;
    const std::string marker_verb = cmd == "start" ? "started" : "restarted";
    for (const std::string& name : names) {
        const std::string marker =
            "-- " + marker_verb + " by `gitvisor " + cmd + "` (uid " + std::to_string(caller.uid) + ") --";
        if (cmd == "stop") {
            if (Result<bool> r = stop_with_dependents(name, also_stopped); !r) errors.push_back(name + ": " + r.error());
            continue;
        }
        set_held(name, false);
        if (cmd == "restart") {
            const std::vector<std::string> followers = restart_followers(name);
            if (Result<bool> r = stop_unit(name, true, true); !r) errors.push_back(name + ": " + r.error());
            if (Result<bool> r = start_with_dependencies(name, cmd, marker, also_started); !r)
                errors.push_back(name + ": " + r.error());
            for (const std::string& f : followers) {
                if (!m_supervisor->running(f)) continue;
                (void)stop_unit(f, true, true);
                if (Result<bool> r = start_unit(f, "restart of " + name, marker); !r) {
                    errors.push_back(f + ": " + r.error());
                } else {
                    also_started.push_back(f);
                }
            }
            continue;
        }
        if (Result<bool> r = start_with_dependencies(name, cmd, marker, also_started); !r)
            errors.push_back(name + ": " + r.error());
    }
    if (!errors.empty()) {
        std::string message = "cannot " + cmd + " ";
        for (size_t i = 0; i < errors.size(); ++i) message += (i ? "; " : "") + errors[i];
        return fail(kExitFailure, message);
    }
    Object::Ptr response = ok();
    const auto array_of = [](const std::vector<std::string>& list) {
        Array::Ptr a = new Array;
        for (const std::string& n : list) a->add(n);
        return a;
    };
    response->set("also_started", array_of(also_started));
    response->set("also_stopped", array_of(also_stopped));
    return response;
}

Object::Ptr Daemon::deployment_of(const std::string& commit) {
    for (const DeploymentRecord& d : m_store->deployments(50))
        if (d.commit == commit && d.trigger != "fetch") return deployment_json(d);  // not a fetch's failure
    return nullptr;
}

// `gitvisor sync`: deploy the branch tip now and wait for the outcome.
Object::Ptr Daemon::handle_sync(const Object::Ptr& request, const Caller& caller) {
    if (!caller.may_change) return permission_denied("sync", caller);
    // A webhook (POST /v1/sync) does not wait: git servers give up after a few seconds. In remote mode the
    // fetch thread fetches now (and queues the deploy of a new tip); else the tip's deploy is queued.
    if (!request->optValue<bool>("wait", true)) {
        if (remote_mode()) {
            std::lock_guard lock(m_fetch_mutex);
            m_fetch_requested = true;
            m_fetch_wake.notify_all();
        } else {
            request_deploy("sync", caller.uid, false);
        }
        Object::Ptr response = ok();
        response->set("queued", true);
        return response;
    }
    if (remote_mode()) {
        // Fetch first; a remote that cannot be reached is this command's failure (what runs stays).
        if (Result<std::string> fetched = fetch_now(false); !fetched)
            return fail(kExitFailure, fetched.error() + " (what runs is left as it is)");
    }
    // --force [REV]: lifts the quarantine of REV (default: the branch tip), and an automatic pin from it.
    if (request->optValue<bool>("force", false)) {
        const std::string revision = request->optValue<std::string>("revision", "");
        const Result<std::string> commit = revision.empty()
                                               ? repo::resolve_branch(m_options.paths.repo, m_options.paths.branch)
                                               : repo::resolve_revision(m_options.paths.repo, revision);
        if (!commit)
            return fail(kExitFailure, "cannot resolve '" + (revision.empty() ? m_options.paths.branch : revision) +
                                          "': " + commit.error());
        std::lock_guard lock(m_deploy_mutex);
        lift_quarantine(*commit);
        if (m_store->meta(kAutoPinKey) == *commit) {
            (void)m_store->set_meta(kPinnedCommitKey, "");
            (void)m_store->set_meta(kAutoPinKey, "");
        }
    }
    const std::vector<DeploymentRecord> newest = m_store->deployments(1);
    const int64_t before = newest.empty() ? 0 : newest.front().id;
    const std::optional<int64_t> ran = request_deploy("sync", caller.uid, true);
    const Result<std::string> tip = deploy_target();
    if (!tip) return fail(kExitFailure, tip.error());
    // The deploy this sync ran (which an automatic rollback may have followed), else the target's last one.
    Object::Ptr deployment;
    if (ran && *ran > before)
        for (const DeploymentRecord& d : m_store->deployments(10))
            if (d.id == *ran) deployment = deployment_json(d);
    if (!deployment && is_quarantined(*tip)) {
        const Object::Ptr entry = quarantine_json()->getObject(*tip);
        return fail(kExitFailure, "commit " + tip->substr(0, 7) + " is quarantined (" +
                                      (entry ? entry->optValue<std::string>("reason", "") : std::string()) +
                                      "): `gitvisor sync --force` deploys it anyway");
    }
    if (!deployment) deployment = deployment_of(*tip);
    Object::Ptr response = ok();
    response->set("commit", deployment ? deployment->getValue<std::string>("commit") : *tip);
    response->set("deployment", deployment);
    return response;
}

// `gitvisor rollback REV` (local mode, DESIGN §3): a new commit on the branch with REV's tree, deployed
// through the queue like any other, recorded with trigger "rollback".
Object::Ptr Daemon::handle_rollback(const Object::Ptr& request, const Caller& caller) {
    if (!caller.may_change) return permission_denied("rollback", caller);
    const std::string revision = request->optValue<std::string>("revision", "");
    if (remote_mode() || request->optValue<bool>("unpin", false)) return handle_pin(request, caller);
    if (revision.empty()) return fail(kExitUsage, "'rollback' needs a revision (a commit hash, tag, HEAD~2...)");
    repo::RollbackCommit written;
    {
        // Held while the commit is written and labelled, so that the deploy its ref update triggers is
        // recorded as this rollback's.
        std::lock_guard lock(m_deploy_mutex);
        Result<repo::RollbackCommit> made = repo::commit_rollback(m_options.paths.repo, m_options.paths.branch, revision);
        if (!made) return fail(kExitFailure, "cannot roll back to '" + revision + "': " + made.error());
        written = *made;
        std::lock_guard queue_lock(m_queue_mutex);
        m_labels[written.commit] = {"rollback", caller.uid,
                                    "roll back to " + written.target.substr(0, 7) + ": " + written.target_subject};
    }
    request_deploy("rollback", caller.uid, true);
    Object::Ptr response = ok();
    response->set("commit", written.commit);
    response->set("target", written.target);
    response->set("target_subject", written.target_subject);
    response->set("message", written.message);
    response->set("deployment", deployment_of(written.commit));
    return response;
}

// Remote mode: `rollback REV` pins the desired state to REV (the remote's branch is not ours to write) until
// `rollback --unpin`.
Object::Ptr Daemon::handle_pin(const Object::Ptr& request, const Caller& caller) {
    const bool unpin = request->optValue<bool>("unpin", false);
    std::string note;
    std::string target;
    {
        std::lock_guard lock(m_deploy_mutex);
        if (unpin) {
            const std::string pinned = m_store->meta(kPinnedCommitKey);
            if (pinned.empty()) return fail(kExitFailure, "nothing is pinned: the branch tip is deployed");
            if (Result<bool> w = m_store->set_meta(kPinnedCommitKey, ""); !w) return fail(kExitFailure, w.error());
            (void)m_store->set_meta(kAutoPinKey, "");
            note = "unpinned from " + pinned.substr(0, 7) + ": the branch tip again";
        } else {
            const std::string revision = request->optValue<std::string>("revision", "");
            if (revision.empty()) return fail(kExitUsage, "'rollback' needs a revision (a commit hash, tag, HEAD~2...)");
            const Result<std::string> commit = repo::resolve_revision(m_options.paths.repo, revision);
            if (!commit) return fail(kExitFailure, "cannot roll back to '" + revision + "': " + commit.error());
            if (Result<bool> w = m_store->set_meta(kPinnedCommitKey, *commit); !w) return fail(kExitFailure, w.error());
            // A pin the operator chose: it holds until --unpin, and deploys REV even if it was quarantined.
            (void)m_store->set_meta(kAutoPinKey, "");
            lift_quarantine(*commit);
            target = *commit;
            note = "pinned to " + commit->substr(0, 7) + " until `gitvisor rollback --unpin`";
        }
        const Result<std::string> goal = deploy_target();
        if (!goal) return fail(kExitFailure, goal.error());
        std::lock_guard queue_lock(m_queue_mutex);
        m_labels[*goal] = {"rollback", caller.uid, note};
        target = *goal;
    }
    request_deploy("rollback", caller.uid, true);
    Object::Ptr response = ok();
    response->set("commit", target);
    response->set("target", target);
    const auto loaded = repo::read_commit_tree(m_options.paths.repo, target);
    response->set("target_subject", loaded ? loaded->subject : std::string());
    response->set("message", note);
    response->set("pinned", !unpin);
    response->set("deployment", deployment_of(target));
    return response;
}

// The plan a deploy of a commit (default: the branch tip) would run now, without running it.
Object::Ptr Daemon::handle_diff(const Object::Ptr& request) {
    const std::string revision = request->optValue<std::string>("revision", "");
    const Result<std::string> commit =
        revision.empty() ? deploy_target() : repo::resolve_revision(m_options.paths.repo, revision);
    if (!commit) return fail(kExitFailure, commit.error());
    std::lock_guard lock(m_deploy_mutex);  // the loaded commit and the applied state stay put meanwhile
    const auto set = load_commit(*commit);
    Object::Ptr response = ok();
    response->set("commit", *commit);
    response->set("subject", set ? m_loaded_subject : std::string());
    response->set("applied_commit", m_store->applied_commit());
    Array::Ptr errors = new Array;
    Array::Ptr actions = new Array;
    const bool valid = set && (*set)->ok();
    if (!valid) {
        for (const DeploymentError& e : rejection_errors(set)) {
            Object::Ptr eo = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
            eo->set("file", e.file);
            eo->set("line", e.line);
            eo->set("message", e.message);
            errors->add(eo);
        }
    } else {
        const Plan plan = make_plan(applied_units(), desired_units(**set));
        for (const PlanStep& s : plan.steps) {
            Object::Ptr ao = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
            ao->set("unit", s.unit);
            ao->set("action", step_action_name(s.action));
            ao->set("reason", s.reason);
            actions->add(ao);
        }
        const auto waves = [](const std::vector<std::vector<std::string>>& list) {
            Array::Ptr out = new Array;
            for (const auto& wave : list) {
                Array::Ptr w = new Array;
                for (const std::string& unit : wave) w->add(unit);
                out->add(w);
            }
            return out;
        };
        response->set("stop_waves", waves(plan.stop_waves));
        response->set("start_waves", waves(plan.start_waves));
    }
    response->set("valid", valid);
    response->set("errors", errors);
    response->set("actions", actions);
    return response;
}

Object::Ptr Daemon::handle(const Object::Ptr& request, const Caller& caller) {
    const std::string cmd = request->optValue<std::string>("cmd", "");
    Object::Ptr response;
    if (cmd == "ping") {
        response = ok();
        response->set("isolation", describe_isolation());
    } else if (cmd == "list" || (cmd == "status" && !request->has("unit"))) {
        response = ok();
        Array::Ptr units = new Array;
        for (const UnitRecord& r : m_store->list_units()) units->add(unit_json(r));
        response->set("units", units);
        response->set("isolation", describe_isolation());
        response->set("applied_commit", m_store->applied_commit());
        // Commits rolled back automatically, which are not deployed again until `sync --force`.
        Array::Ptr quarantined = new Array;
        const Object::Ptr all = quarantine_json();
        for (const std::string& commit : all->getNames()) {
            Object::Ptr q = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
            q->set("commit", commit);
            if (const Object::Ptr entry = all->getObject(commit)) {
                q->set("deployment", entry->optValue<int64_t>("deployment", 0));
                q->set("reason", entry->optValue<std::string>("reason", ""));
                q->set("since", entry->optValue<std::string>("since", ""));
            }
            quarantined->add(q);
        }
        response->set("quarantined", quarantined);
        describe_remote(response);
    } else if (cmd == "status" || cmd == "cat") {
        const std::string name = unit_name(request->getValue<std::string>("unit"));
        std::optional<UnitRecord> r = m_store->get_unit(name);
        if (!r) {
            response = fail(kExitNoSuchUnit, "no such unit '" + name + "'");
        } else {
            response = ok();
            response->set("unit", unit_json(*r));
            if (cmd == "cat") response->set("text", r->unit_text);
            // The last lines of its log, as `systemctl status` shows them, for those who may read logs.
            if (cmd == "status" && caller.may_change) response->set("log", log_tail(name, 10));
        }
    } else if (cmd == "history") {
        response = ok();
        Array::Ptr list = new Array;
        for (const DeploymentRecord& d : m_store->deployments(static_cast<int>(request->optValue<int64_t>("n", 20))))
            list->add(deployment_json(d));
        response->set("deployments", list);
    } else if (cmd == "diff") {
        response = handle_diff(request);
    } else if (cmd == "sync") {
        response = handle_sync(request, caller);
    } else if (cmd == "rollback") {
        response = handle_rollback(request, caller);
    } else if (cmd == "tree") {
        response = handle_tree(request);
    } else if (cmd == "why") {
        response = handle_why(request, caller);
    } else if (cmd == "reset-failed") {
        response = handle_reset_failed(request, caller);
    } else if (cmd == "reload" || cmd == "kill") {
        response = handle_signal(cmd, request, caller);
    } else if (cmd == "start" || cmd == "stop" || cmd == "restart") {
        response = handle_change(cmd, request, caller);
    } else {
        response = fail(kExitUsage, "unknown request '" + cmd + "'");
    }
    EventRecord e;
    e.time_usec = realtime_usec();
    e.uid = caller.uid;
    e.kind = "request";
    std::vector<std::string> names;
    try {
        names = names_of(request);
    } catch (const std::exception&) {
    }
    e.unit = names.empty() ? "" : names.front();
    e.message = cmd + (response->getValue<bool>("ok") ? ": ok" : ": " + response->getValue<std::string>("error"));
    record_event(e);
    return response;
}

}  // namespace gitvisor::daemon
