// `gitvisor why UNIT`: why a unit is not running (or that it is), from what gitvisord knows: the unit's
// record, its dependencies' states, the commit at the branch tip (rejected, or ConditionHost= not matching
// this host), and the end of its log.

#include <Poco/JSON/Array.h>

#include "common/exit_codes.h"
#include "common/time_format.h"
#include "daemon/core/daemon.h"
#include "daemon/core/responses.h"
#include "unitfile/conditions.h"
#include "unitfile/unit_name.h"

namespace gitvisor::daemon {

Poco::JSON::Object::Ptr Daemon::handle_why(const Poco::JSON::Object::Ptr& request, const Caller& caller) {
    std::string name = request->optValue<std::string>("unit", "");
    if (name.empty()) return error_response(kExitUsage, "'why' needs a unit");
    if (!unitfile::is_valid_unit_name(name)) name += ".service";
    std::vector<std::string> reasons;
    const auto say = [&](std::string text) { reasons.push_back(std::move(text)); };
    const auto answer = [&](bool running) {
        Poco::JSON::Object::Ptr response = ok_response();
        response->set("unit", name);
        response->set("running", running);
        Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
        for (const std::string& r : reasons) list->add(r);
        response->set("reasons", list);
        return response;
    };

    std::lock_guard lock(m_deploy_mutex);  // the loaded commit stays put meanwhile
    const Result<std::string> tip = deploy_target();
    const std::vector<DeploymentRecord> last = m_store->deployments(1);
    if (tip && !last.empty() && last.front().commit == *tip && last.front().result == "rejected") {
        std::string text = "the newest commit " + tip->substr(0, 7) + " (" + last.front().subject +
                           ") was rejected, so the commit before it still runs";
        if (!last.front().errors.empty()) {
            const DeploymentError& e = last.front().errors.front();
            text += "; first error: " + e.file + (e.line > 0 ? ":" + std::to_string(e.line) : "") + ": " + e.message;
        }
        say(text);
    }

    const std::optional<UnitRecord> record = m_store->get_unit(name);
    if (!record) {
        // Not deployed here: not in the commit, or meant for other hosts.
        if (tip) {
            const auto set = load_commit(*tip);
            const unitfile::Unit* unit = set ? find_loaded(name) : nullptr;
            if (!unit) {
                say("there is no " + name + " in commit " + tip->substr(0, 7));
            } else if (!unitfile::host_condition_holds(*unit, m_loaded_context.hostname, m_loaded_context.machine_id)) {
                say("ConditionHost= does not match this host (name '" + m_loaded_context.hostname + "', machine ID " +
                    m_loaded_context.machine_id + "): the unit is meant for other hosts");
            } else {
                say(name + " is in commit " + tip->substr(0, 7) + " but not deployed yet");
            }
        } else {
            say("nothing is deployed: " + tip.error());
        }
        return answer(false);
    }

    const bool running = record->state == "active" || record->state == "reloading" || record->state == "activating";
    if (running) {
        say(name + " is " + record->state + " (" + record->sub_state + ") since " + format_human_time(record->since_usec) +
            (record->main_pid > 0 ? ", main pid " + std::to_string(record->main_pid) : ""));
    } else if (record->held_stopped) {
        say("stopped by `gitvisor stop`: it stays stopped until `gitvisor start " + name +
            "` or a deploy that changes it");
    } else if (record->result == "condition" || record->result == "assert") {
        const std::string unmet = m_store->meta(kUnmetConditionKey + name);
        say(std::string(record->result == "condition" ? "its start was skipped at " : "its start failed at ") +
            format_human_time(record->since_usec) + ": " + (unmet.empty() ? "a condition did not hold" : unmet) +
            "; conditions are checked again at the next start");
    } else if (record->result == "start-limit-hit") {
        say("it failed and was restarted too often (StartLimitBurst= within StartLimitIntervalSec=): gitvisor gave "
            "up; `gitvisor reset-failed " + name + "` then `gitvisor start " + name + "`");
    } else if (record->state == "failed") {
        std::string text = "it failed (result " + record->result + ")";
        if (const auto status = m_supervisor->status(name); status && !status->error.empty())
            text += " at step " + status->failed_step + ": " + status->error;
        say(text + "; `gitvisor logs " + name + "` shows its output");
    } else {
        say("it ended (" + record->state + ", " + record->sub_state + ", result " + record->result +
            "): the main process exited and Restart= did not start it again");
    }
    // Units it needs that do not run.
    if (const unitfile::Unit* unit = (load_commit(record->commit) ? find_loaded(name) : nullptr)) {
        for (const char* key : {"Requires", "BindsTo", "Requisite", "Wants"}) {
            const auto* deps = unit->get<std::vector<std::string>>("Unit", key);
            if (!deps) continue;
            for (const std::string& dep : *deps) {
                const std::optional<UnitRecord> d = m_store->get_unit(dep);
                if (!d) {
                    say(std::string(key) + "=" + dep + ", which is not deployed on this host");
                } else if (d->state != "active" && d->state != "reloading") {
                    say(std::string(key) + "=" + dep + ", which is " + d->state + " (" + d->sub_state + ")");
                }
            }
        }
    }
    Poco::JSON::Object::Ptr response = answer(running);
    if (caller.may_change) response->set("log", log_tail(name, 3));  // logs are for root and the gitvisor group
    return response;
}

}  // namespace gitvisor::daemon
