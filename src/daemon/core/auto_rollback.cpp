// Automatic rollback and quarantine (DESIGN §4, [Deploy] AutoRollback=yes in gitvisor.ini).
//
// A deploy that fails its gate is rolled back to the newest deploy that was applied (healthy) — a rollback
// commit in local mode, a pin in remote mode — and its commit is quarantined: neither the watcher, the
// fetch timer nor a plain `sync` deploys it again; a later commit does, or `gitvisor sync --force`.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <iostream>
#include <sstream>

#include "common/time_format.h"
#include "daemon/core/daemon.h"
#include "repo/commit_tree.h"
#include "repo/rollback.h"

namespace gitvisor::daemon {
namespace {

using Poco::JSON::Object;

Object::Ptr parse_object(const std::string& text) {
    if (text.empty()) return new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    try {
        Poco::JSON::Parser parser;
        if (auto o = parser.parse(text).extract<Object::Ptr>()) return o;
    } catch (const std::exception&) {
    }
    return new Object(Poco::JSON_PRESERVE_KEY_ORDER);
}

std::string to_text(const Object::Ptr& o) {
    std::ostringstream out;
    o->stringify(out);
    return out.str();
}

}  // namespace

Object::Ptr Daemon::quarantine_json() { return parse_object(m_store->meta(kQuarantineKey)); }

bool Daemon::is_quarantined(const std::string& commit) { return quarantine_json()->has(commit); }

void Daemon::quarantine(const std::string& commit, int64_t deployment, const std::string& reason) {
    Object::Ptr all = quarantine_json();
    Object::Ptr entry = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    entry->set("deployment", deployment);
    entry->set("reason", reason);
    entry->set("since", format_rfc3339(realtime_usec()));
    all->set(commit, entry);
    (void)m_store->set_meta(kQuarantineKey, to_text(all));
}

bool Daemon::lift_quarantine(const std::string& commit) {
    Object::Ptr all = quarantine_json();
    if (!all->has(commit)) return false;
    all->remove(commit);
    (void)m_store->set_meta(kQuarantineKey, to_text(all));
    return true;
}

// Called by the deploy thread (m_deploy_mutex held) after `failed` did not pass its gate. Returns the note
// for the failed deployment ("" when nothing was rolled back).
std::string Daemon::auto_rollback(const DeploymentRecord& failed) {
    const auto event = [&](const std::string& message) {
        EventRecord e;
        e.time_usec = realtime_usec();
        e.kind = "deploy";
        e.message = message;
        record_event(e);
    };
    const std::optional<DeploymentRecord> healthy = m_store->last_applied_other_than(failed.commit);
    if (!healthy) {
        // Nothing to go back to: the commit stays applied as it is, and is not quarantined.
        event("auto-rollback of " + failed.commit.substr(0, 7) + " skipped: no earlier deploy was healthy");
        return "";
    }
    const std::string target = healthy->commit;
    const std::string target_subject = healthy->subject;
    std::string first_error = "its units did not come up";
    if (!failed.errors.empty()) {
        const DeploymentError& e = failed.errors.front();
        first_error = e.file.empty() ? e.message : e.file + ": " + e.message;
    }
    const std::string reason = "deploy " + std::to_string(failed.id) + " failed: " + first_error;
    if (!remote_mode()) {
        // A newer commit on the branch (a fix pushed while the gate waited) is deployed next instead: a
        // rollback commit on top of it would undo it.
        const Result<std::string> tip = repo::resolve_branch(m_options.paths.repo, m_options.paths.branch);
        if (tip && *tip != failed.commit) {
            quarantine(failed.commit, failed.id, reason);
            event("auto-rollback of " + failed.commit.substr(0, 7) + " skipped: the branch moved on to " +
                  tip->substr(0, 7) + ", which deploys next; " + failed.commit.substr(0, 7) + " is quarantined");
            return "";
        }
    }
    quarantine(failed.commit, failed.id, reason);
    const std::string note = "rolled back automatically to " + target.substr(0, 7) + ": " + target_subject;
    if (remote_mode()) {
        // The remote's branch is not ours to write: pin the healthy commit until the remote moves on.
        (void)m_store->set_meta(kPinnedCommitKey, target);
        (void)m_store->set_meta(kAutoPinKey, failed.commit);
        std::lock_guard queue_lock(m_queue_mutex);
        m_labels[target] = {"auto-rollback", -1, "pinned to " + target.substr(0, 7) + " after deploy " +
                                                     std::to_string(failed.id) + " failed"};
    } else {
        Result<repo::RollbackCommit> made = repo::commit_rollback(m_options.paths.repo, m_options.paths.branch, target);
        if (!made) {
            event("auto-rollback of " + failed.commit.substr(0, 7) + " failed: " + made.error());
            std::cerr << "gitvisord: automatic rollback failed: " << made.error() << "\n";
            return "";
        }
        std::lock_guard queue_lock(m_queue_mutex);
        m_labels[made->commit] = {"auto-rollback", -1,
                                  "roll back to " + target.substr(0, 7) + ": " + target_subject + " (deploy " +
                                      std::to_string(failed.id) + " of " + failed.commit.substr(0, 7) + " failed)"};
    }
    event("auto-rollback: " + failed.commit.substr(0, 7) + " failed, rolling back to " + target.substr(0, 7) +
          "; " + failed.commit.substr(0, 7) + " is quarantined");
    std::cerr << "gitvisord: " << note << "\n";
    request_deploy("auto-rollback", -1, false);
    return note;
}

}  // namespace gitvisor::daemon
