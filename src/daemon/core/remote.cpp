// Remote mode (DESIGN §3): gitvisord fetches the remote's branch into <state-dir>/mirror and deploys from the
// mirror as from a local repository. A remote that cannot be reached leaves everything running as it is; the
// error is in `status`, in `history` (once, when fetching starts to fail) and in `events`, and fetching is
// retried with back-off. A force-push is deployed like any new tip, with a note that history was rewritten.

#include <algorithm>
#include <chrono>
#include <iostream>

#include "common/time_format.h"
#include "daemon/core/daemon.h"
#include "repo/commit_tree.h"
#include "repo/mirror.h"

namespace gitvisor::daemon {

Result<std::string> Daemon::deploy_target() {
    const std::string pinned = m_store->meta(kPinnedCommitKey);
    if (pinned.empty()) return repo::resolve_branch(m_options.paths.repo, m_options.paths.branch);
    // The pin of an automatic rollback holds only while the remote's tip is the commit that failed.
    if (const std::string failed = m_store->meta(kAutoPinKey); !failed.empty()) {
        const Result<std::string> tip = repo::resolve_branch(m_options.paths.repo, m_options.paths.branch);
        if (tip && *tip != failed) {
            (void)m_store->set_meta(kPinnedCommitKey, "");
            (void)m_store->set_meta(kAutoPinKey, "");
            return tip;
        }
    }
    return Result<std::string>::ok(pinned);
}

Result<std::string> Daemon::fetch_now(bool deploy) {
    std::lock_guard run_lock(m_fetch_run_mutex);
    repo::FetchOptions options;
    options.url = m_options.remote;
    options.branch = m_options.paths.branch;
    options.ssh_key_file = m_options.ssh_key_file;
    options.token_file = m_options.token_file;
    const Result<repo::FetchResult> fetched = repo::fetch_branch(m_options.paths.repo, options);
    std::unique_lock lock(m_fetch_mutex);
    m_last_fetch_usec = realtime_usec();
    const auto event = [&](const std::string& message) {
        EventRecord e;
        e.time_usec = realtime_usec();
        e.kind = "fetch";
        e.message = message;
        record_event(e);
    };
    if (!fetched) {
        if (m_fetch_error.empty()) {
            // The first failure of a series is recorded in the history; the retries only in status.
            std::cerr << "gitvisord: " << fetched.error() << "\n";
            event(fetched.error() + "; what runs is left as it is, retrying");
            DeploymentRecord d;
            d.commit = m_store->applied_commit();
            d.trigger = "fetch";
            d.result = "failed";
            d.note = "the remote cannot be reached: what runs is left as it is";
            d.errors.push_back({"", 0, fetched.error()});
            d.started_usec = d.finished_usec.emplace(realtime_usec());
            (void)m_store->begin_deployment(d);
        }
        m_fetch_error = fetched.error();
        ++m_fetch_failures;
        return Result<std::string>::fail(fetched.error());
    }
    if (!m_fetch_error.empty()) event("fetching from " + m_options.remote + " works again");
    m_fetch_error.clear();
    m_fetch_failures = 0;
    if (fetched->tip != fetched->previous_tip) {
        event("fetched " + fetched->tip.substr(0, 7) + " from " + m_options.remote +
              (fetched->history_rewritten ? " (history rewritten)" : ""));
        if (fetched->history_rewritten) {
            std::lock_guard queue_lock(m_queue_mutex);
            m_labels[fetched->tip] = {"commit", -1,
                                      "history rewritten: " + fetched->previous_tip.substr(0, 7) +
                                          " is not an ancestor of the new tip (force-push)"};
        }
        if (deploy) request_deploy("commit", -1, false);
    }
    return Result<std::string>::ok(fetched->tip);
}

void Daemon::fetch_loop() {
    while (true) {
        (void)fetch_now();
        std::unique_lock lock(m_fetch_mutex);
        if (m_fetch_quit) return;
        // Back-off after failures: the interval, doubled per failure, at most 8 times it (and 5 minutes).
        int64_t wait_sec = m_options.fetch_interval_sec;
        if (m_fetch_failures > 0)
            wait_sec = std::min<int64_t>(std::max<int64_t>(1, m_options.fetch_interval_sec / 8)
                                             << std::min<int64_t>(m_fetch_failures - 1, 6),
                                         std::min<int64_t>(m_options.fetch_interval_sec * 8, 300));
        if (m_fetch_wake.wait_for(lock, std::chrono::seconds(std::max<int64_t>(1, wait_sec)),
                                  [&] { return m_fetch_quit || m_fetch_requested; }) &&
            m_fetch_quit)
            return;
        m_fetch_requested = false;
    }
}

void Daemon::describe_remote(Poco::JSON::Object::Ptr& out) {
    out->set("pinned_commit", m_store->meta(kPinnedCommitKey));
    if (!remote_mode()) return;
    std::lock_guard lock(m_fetch_mutex);
    out->set("remote", m_options.remote);
    out->set("remote_error", m_fetch_error);
    out->set("last_fetch", m_last_fetch_usec ? format_rfc3339(m_last_fetch_usec) : "");
}

}  // namespace gitvisor::daemon
