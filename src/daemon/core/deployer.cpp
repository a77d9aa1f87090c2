// Deploys (DESIGN §3): the queue, loading a commit, planning, and starting and stopping units in waves.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "common/time_format.h"
#include "daemon/core/daemon.h"
#include "daemon/plan/plan.h"
#include "daemon/supervise/spec_builder.h"
#include "repo/commit_tree.h"
#include "unitfile/conditions.h"
#include "unitfile/normalize.h"
#include "unitfile/setting_parser.h"

namespace gitvisor::daemon {
namespace {

using unitfile::Unit;

std::string new_invocation_id() {
    std::ifstream urandom("/dev/urandom", std::ios::binary);
    unsigned char bytes[16] = {};
    urandom.read(reinterpret_cast<char*>(bytes), sizeof bytes);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 0xF]);
    }
    return out;
}

uint64_t physical_memory() {
    return static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t pid_max() {
    std::ifstream in("/proc/sys/kernel/pid_max");
    uint64_t v = 4194304;
    in >> v;
    return v;
}

// Runs `work` for every name of a wave on up to 64 threads, each taking the next name as soon as it is
// done, so one slow unit does not hold back the rest.
template <class Work>
void run_wave(const std::vector<std::string>& wave, Work work) {
    constexpr size_t kParallel = 64;
    std::atomic<size_t> next{0};
    std::vector<std::thread> threads;
    for (size_t t = 0; t < std::min(wave.size(), kParallel); ++t)
        threads.emplace_back([&] {
            for (size_t i; (i = next.fetch_add(1)) < wave.size();) work(wave[i]);
        });
    for (std::thread& t : threads) t.join();
}

}  // namespace

int64_t timeout_usec(const Unit* unit, const char* key, uint64_t fallback) {
    if (!unit) return static_cast<int64_t>(fallback);
    const uint64_t v = unitfile::value_or_default(*unit, "Service", key, unitfile::Duration{fallback}).usec;
    return v == unitfile::kInfinity ? -1 : static_cast<int64_t>(v);
}


std::optional<int64_t> Daemon::request_deploy(const std::string& trigger, int64_t uid, bool wait,
                                              const std::string& note) {
    std::unique_lock lock(m_queue_mutex);
    // Several triggers waiting are one deploy of the newest tip (DESIGN §3: no deploy races another).
    if (m_queue.empty() || m_queue.back().trigger != trigger || !note.empty())
        m_queue.push_back({trigger, uid, note});
    const int64_t ticket = ++m_requests_made;
    m_queue_changed.notify_all();
    if (!wait) return std::nullopt;
    m_queue_changed.wait(lock, [&] { return m_requests_done >= ticket || m_quit; });
    return m_last_deployment;
}

void Daemon::deploy_loop() {
    while (true) {
        DeployRequest request;
        int64_t covered = 0;
        {
            std::unique_lock lock(m_queue_mutex);
            m_queue_changed.wait(lock, [&] { return !m_queue.empty() || m_quit; });
            if (m_quit) return;
            request = m_queue.front();
            m_queue.clear();
            covered = m_requests_made;
        }
        const int64_t id = deploy_tip(request);
        {
            std::lock_guard lock(m_queue_mutex);
            if (id > 0) m_last_deployment = id;
            m_requests_done = covered;
        }
        m_queue_changed.notify_all();
    }
}

// The host as units see it (%H, ConditionHost=): --hostname overrides the host's name.
unitfile::SpecifierContext Daemon::host_context() const {
    unitfile::SpecifierContext context = unitfile::SpecifierContext::for_host("");
    if (!m_options.hostname.empty()) {
        context.hostname = m_options.hostname;
        context.short_hostname = m_options.hostname.substr(0, m_options.hostname.find('.'));
    }
    return context;
}

Result<std::shared_ptr<const unitfile::UnitSet>> Daemon::load_commit(const std::string& commit) {
    using R = Result<std::shared_ptr<const unitfile::UnitSet>>;
    if (commit == m_loaded_commit && m_loaded_set) return R::ok(m_loaded_set);
    auto tree = repo::read_commit_tree(m_options.paths.repo, commit, &m_blob_cache);
    if (!tree) return R::fail(tree.error());
    unitfile::UnitSetOptions options;
    m_loaded_context = host_context();
    options.context = m_loaded_context;
    options.cache = &m_unit_cache;
    auto set = std::make_shared<const unitfile::UnitSet>(unitfile::load_unit_set(tree->files, options));
    m_loaded_files = std::move(tree->files);
    m_loaded_commit = commit;
    m_loaded_subject = tree->subject;
    m_loaded_author = tree->author;
    m_loaded_set = set;
    return R::ok(set);
}

// The unit's files as committed (main file, then drop-ins), each after a "# path" line, for `cat`.
std::string Daemon::loaded_text(const std::string& name) {
    const Unit* unit = find_loaded(name);
    if (!unit) return "";
    const auto text_of = [&](const std::string& path) -> std::string {
        for (const unitfile::TreeFile& f : m_loaded_files)
            if (f.path == path) return f.is_symlink ? "" : f.text;
        return "";
    };
    std::string main = unit->file;
    if (const size_t arrow = main.find(" -> "); arrow != std::string::npos) main = main.substr(arrow + 4);
    std::string text = "# " + unit->file + "\n" + text_of(main);
    for (const std::string& d : unit->dropins) text += "\n# " + d + "\n" + text_of(d);
    return text;
}

const Unit* Daemon::find_loaded(const std::string& name) {
    if (!m_loaded_set) return nullptr;
    for (const unitfile::LoadedUnit& u : m_loaded_set->units)
        if (u.unit.name == name) return &u.unit;
    return nullptr;
}

Result<bool> Daemon::start_unit(const std::string& name, const std::string& reason, const std::string& marker) {
    std::optional<UnitRecord> record = m_store->get_unit(name);
    if (!record) return Result<bool>::fail("'" + name + "' is not in the deployed commit");
    if (auto loaded = load_commit(record->commit); !loaded) return Result<bool>::fail(loaded.error());
    const Unit* unit = find_loaded(name);
    if (!unit) return Result<bool>::fail("'" + name + "' is not in commit " + record->commit.substr(0, 7));
    if (m_supervisor->running(name)) return Result<bool>::ok(true);
    // Condition*= and Assert*=, checked at each start as systemd checks them when the start job runs: a
    // condition that does not hold skips the start (not a failure), an assert that fails fails it.
    if (const std::string unmet = unitfile::unmet_start_condition(*unit, "Condition"); !unmet.empty()) {
        record_unmet_condition(*record, "condition", unmet);
        return Result<bool>::ok(true);
    }
    if (const std::string failed = unitfile::unmet_start_condition(*unit, "Assert"); !failed.empty()) {
        record_unmet_condition(*record, "assert", failed);
        return Result<bool>::fail(failed);
    }
    if (record->result == "condition" || record->result == "assert")
        (void)m_store->set_meta(kUnmetConditionKey + name, "");
    set_health_spec(name, unit);
    StartContext context;
    context.invocation = new_invocation_id();
    context.log = m_options.log;
    context.log_marker = marker;
    Result<pid_t> pid = m_supervisor->start(*unit, cgroup_limits_of(*unit, physical_memory(), pid_max()), context);
    if (!pid) return Result<bool>::fail(pid.error());
    EventRecord e;
    e.time_usec = realtime_usec();
    e.kind = "unit";
    e.unit = name;
    e.message = "starting (" + reason + "), gitvisor-exec pid " + std::to_string(*pid);
    record_event(e);
    const int64_t timeout = timeout_usec(unit, "TimeoutStartSec", 90 * unitfile::kUsecPerSec);
    const int wait_ms = timeout < 0 ? 24 * 3600 * 1000 : static_cast<int>(timeout / 1000) + 1000;
    const std::optional<ExecStatus> status = m_supervisor->wait_started(name, wait_ms);
    // The supervisor reports the new state to on_unit_change on its own thread, perhaps after this: the
    // health checks begin here too (once per invocation), so a deploy's gate never finds them not begun.
    if (status) follow_health(name, *status, false);
    // A failed start either ends in `failed` or, with Restart=, waits to be tried again.
    if (status &&
        (status->state == "failed" || (status->sub_state == "auto-restart" && status->result != "success"))) {
        std::string why = "failed to start: " + status->result;
        if (!status->error.empty()) why += " at step " + status->failed_step + ": " + status->error;
        return Result<bool>::fail(why);
    }
    return Result<bool>::ok(true);
}

void Daemon::record_unmet_condition(UnitRecord record, const std::string& result, const std::string& unmet) {
    const int64_t now = realtime_usec();
    record.state = "inactive";
    record.sub_state = "dead";
    record.result = result;
    record.exec_pid = record.main_pid = record.ns_pid = 0;
    record.since_usec = now;
    (void)m_store->put_unit(record);
    (void)m_store->set_meta(kUnmetConditionKey + record.name, unmet);
    EventRecord e;
    e.time_usec = now;
    e.kind = "unit";
    e.unit = record.name;
    e.message = (result == "assert" ? "start failed: " : "start skipped: ") + unmet;
    record_event(e);
}

Result<bool> Daemon::stop_unit(const std::string& name, bool drain_first, bool restarting) {
    if (drain_first) drain(name);
    const Unit* unit = find_loaded(name);
    return m_supervisor->stop(name, timeout_usec(unit, "TimeoutStopSec", 10 * unitfile::kUsecPerSec), restarting);
}

// Commits that arrived while another deploy ran and were never deployed themselves: the next deploy goes
// straight to the tip (DESIGN §3), and each skipped commit is recorded as `superseded`.
void Daemon::record_superseded(const std::string& tip, const DeployRequest& request) {
    constexpr size_t kMaxRecorded = 1000;
    const std::vector<DeploymentRecord> last = m_store->deployments(1);
    if (last.empty() || last.front().commit == tip) return;
    const int64_t now = realtime_usec();
    for (const repo::CommitSummary& c : repo::commits_between(m_options.paths.repo, last.front().commit, tip, kMaxRecorded)) {
        DeploymentRecord skipped;
        skipped.commit = c.commit;
        skipped.subject = c.subject;
        skipped.trigger = request.trigger;
        skipped.uid = request.uid;
        skipped.result = "superseded";
        skipped.started_usec = now;
        skipped.finished_usec = now;
        (void)m_store->begin_deployment(skipped);
    }
}

std::vector<DeploymentError> Daemon::rejection_errors(const Result<std::shared_ptr<const unitfile::UnitSet>>& set) {
    std::vector<DeploymentError> errors;
    if (!set) {
        errors.push_back({"", 0, set.error()});
    } else {
        for (const unitfile::Diagnostic& d : (*set)->diagnostics)
            if (d.severity == unitfile::Severity::Error) errors.push_back({d.file, d.line, d.message});
    }
    return errors;
}

// ConditionHost=: of a fleet's units, this host runs those meant for it; a unit that stops matching is
// stopped as if removed.
std::map<std::string, DesiredUnit> Daemon::desired_units(const unitfile::UnitSet& set) const {
    std::map<std::string, DesiredUnit> desired;
    const unitfile::SpecifierContext& host = m_loaded_context;  // read with the commit just loaded
    for (const unitfile::LoadedUnit& u : set.units)
        if (unitfile::host_condition_holds(u.unit, host.hostname, host.machine_id))
            desired[u.unit.name] = {u.spec_hash.empty() ? unitfile::spec_hash(u.unit) : u.spec_hash, &u.unit};
    return desired;
}

std::map<std::string, AppliedUnit> Daemon::applied_units() {
    std::map<std::string, AppliedUnit> applied;
    for (const UnitRecord& r : m_store->list_units())
        applied[r.name] = {r.spec_hash, r.held_stopped, m_needs_start.count(r.name) > 0, m_supervisor->running(r.name)};
    return applied;
}

int64_t Daemon::deploy_tip(const DeployRequest& request) {
    std::lock_guard deploy_lock(m_deploy_mutex);
    const Result<std::string> tip = deploy_target();
    if (!tip) {
        std::cerr << "gitvisord: nothing to deploy: " << tip.error() << "\n";
        return 0;
    }
    const std::string applied_commit = m_store->applied_commit();
    if (*tip == applied_commit && m_needs_start.empty()) return 0;
    // A commit rolled back automatically is not deployed again (`sync --force` lifts the quarantine); the
    // applied commit is not "deployed again" when units of it need starting (after a reboot).
    if (*tip != applied_commit && is_quarantined(*tip)) {
        std::cerr << "gitvisord: " << tip->substr(0, 7) << " is quarantined (its deploy failed and was rolled back); "
                  << "`gitvisor sync --force` deploys it\n";
        return 0;
    }
    // A rejected tip stays rejected until a new commit: another ref's change (or the watcher's fallback)
    // must not record it again. An explicit request (sync, start-up) tries it again.
    if (request.trigger == "commit") {
        const std::vector<DeploymentRecord> last = m_store->deployments(1);
        if (!last.empty() && last.front().commit == *tip && last.front().result == "rejected") return 0;
    }

    DeployRequest labelled = request;
    {
        std::lock_guard lock(m_queue_mutex);
        if (auto label = m_labels.find(*tip); label != m_labels.end()) {
            labelled = label->second;
            m_labels.erase(label);
        }
    }
    return deploy_commit(*tip, labelled);
}

// Records the commits skipped on the way, then applies or rejects `tip` (called with m_deploy_mutex held).
int64_t Daemon::deploy_commit(const std::string& commit, const DeployRequest& request) {
    record_superseded(commit, request);
    DeploymentRecord deployment;
    deployment.commit = commit;
    deployment.trigger = request.trigger;
    deployment.uid = request.uid;
    deployment.started_usec = realtime_usec();
    deployment.result = "in-progress";
    // Whether the caches hold the applied commit, so that a unit parsed now is one whose files changed.
    const bool cached_applied = m_loaded_commit == m_store->applied_commit();
    auto set = load_commit(commit);
    if (set) {
        deployment.subject = m_loaded_subject;
        deployment.author = m_loaded_author;
    }
    deployment.note = request.note;
    const auto deploy_event = [&](const std::string& message) {
        EventRecord e;
        e.time_usec = realtime_usec();
        e.uid = request.uid;
        e.kind = "deploy";
        e.message = message;
        record_event(e);
    };
    const std::string what = commit.substr(0, 7) + " (" + request.trigger + "): " + deployment.subject;
    if (!set || !(*set)->ok()) {
        deployment.result = "rejected";
        deployment.errors = rejection_errors(set);
        deployment.finished_usec = realtime_usec();
        const Result<int64_t> id = m_store->begin_deployment(deployment);
        std::cerr << "gitvisord: rejected " << commit.substr(0, 7) << " (" << deployment.errors.size() << " error(s))\n";
        const DeploymentError& first = deployment.errors.empty() ? DeploymentError{} : deployment.errors.front();
        deploy_event("rejected " + what + "; " + std::to_string(deployment.errors.size()) + " error(s), first: " +
                     first.file + (first.line > 0 ? ":" + std::to_string(first.line) : "") + ": " + first.message);
        return id ? *id : 0;
    }

    std::map<std::string, DesiredUnit> desired = desired_units(**set);
    const Plan plan = make_plan(applied_units(), desired);
    for (const PlanStep& s : plan.steps) deployment.actions.push_back({s.unit, step_action_name(s.action), s.reason, ""});
    const Result<int64_t> id = m_store->begin_deployment(deployment);
    deployment.id = id ? *id : 0;
    deploy_event("started " + what + "; " + std::to_string(plan.steps.size()) + " action(s)");

    std::mutex results_mutex;
    std::map<std::string, std::string> failures;
    for (const auto& wave : plan.stop_waves) {
        run_wave(wave, [&](const std::string& name) {
            const PlanStep* step = plan.find(name);
            if (Result<bool> r = stop_unit(name, true, step && step->action == StepAction::Restart); !r) {
                std::lock_guard lock(results_mutex);
                failures[name] = r.error();
            }
        });
    }
    std::unique_lock records_lock(m_records_mutex);
    for (const PlanStep& s : plan.steps) {
        if (s.action == StepAction::Stop) {
            set_health_spec(s.unit, nullptr);
            (void)m_store->delete_unit(s.unit);
            std::error_code ec;
            std::filesystem::remove_all(m_options.paths.unit_dir(s.unit), ec);
            continue;
        }
        const DesiredUnit& d = desired[s.unit];
        UnitRecord record = m_store->get_unit(s.unit).value_or(UnitRecord{});
        record.name = s.unit;
        record.spec_hash = d.spec_hash;
        record.commit = commit;
        record.unit_json = unitfile::unit_to_json(*d.unit);
        record.unit_text = loaded_text(s.unit);
        record.held_stopped = false;
        (void)m_store->put_unit(record);
    }
    // Unchanged units keep the commit that deployed them, but a comment-only change of their files is
    // shown by `cat`: only units whose files changed (parsed by this load) can have one, when the caches
    // held the applied commit; else every unit is looked at.
    std::vector<std::string> maybe_changed = (*set)->parsed;
    if (!cached_applied) {
        maybe_changed.clear();
        for (const auto& [name, d] : desired) maybe_changed.push_back(name);
    }
    for (const std::string& name : maybe_changed) {
        if (!desired.count(name) || plan.find(name)) continue;
        const std::string text = loaded_text(name);
        if (std::optional<UnitRecord> r = m_store->get_unit(name); r && r->unit_text != text) {
            r->unit_text = text;
            (void)m_store->put_unit(*r);
        }
    }
    records_lock.unlock();
    m_needs_start.clear();
    const std::string marker = "-- deployed " + commit.substr(0, 7) + ": " + deployment.subject + " --";
    for (const auto& wave : plan.start_waves) {
        run_wave(wave, [&](const std::string& name) {
            if (Result<bool> r = start_unit(name, plan.find(name)->reason, marker); !r) {
                std::lock_guard lock(results_mutex);
                failures[name] = r.error();
            }
        });
    }
    // The gate: started units must come up (and pass their health checks) as gitvisor.ini's [Deploy] says.
    std::vector<std::string> started;
    for (const auto& wave : plan.start_waves)
        for (const std::string& name : wave)
            if (!failures.count(name)) started.push_back(name);
    const unitfile::DeploySettings& settings = (*set)->settings.deploy;
    for (auto& [unit, why] : gate_deploy(started, settings)) failures[unit] = std::move(why);
    for (DeploymentAction& a : deployment.actions) {
        auto f = failures.find(a.unit);
        a.result = f == failures.end() ? "done" : "failed: " + f->second;
    }
    // A failed deploy says why in its errors too, as a rejected one does (the unit's file, no line).
    for (const auto& [unit, why] : failures) {
        const Unit* u = find_loaded(unit);
        // The file names the unit; without one (it is gone from the commit) the message does.
        deployment.errors.push_back({u ? u->file : "", 0, u ? why : unit + ": " + why});
    }
    deployment.result = failures.empty() ? "applied" : "failed";
    // gitvisord is exiting: the gate was cut short, so the outcome is unknown; the next gitvisord deploys the
    // commit again (it is not recorded as applied).
    const bool interrupted = m_shutting_down;
    if (interrupted) deployment.result = "interrupted";
    // An automatic rollback is not rolled back again: that would go round in circles.
    if (!interrupted && !failures.empty() && settings.auto_rollback && request.trigger != "auto-rollback") {
        if (std::string note = auto_rollback(deployment); !note.empty()) {
            deployment.result = "rolled-back";
            deployment.note = deployment.note.empty() ? note : deployment.note + "; " + note;
        }
    }
    deployment.finished_usec = realtime_usec();
    (void)m_store->update_deployment(deployment);
    if (!interrupted) (void)m_store->set_applied_commit(commit);
    std::cerr << "gitvisord: " << deployment.result << " " << commit.substr(0, 7) << " (" << plan.steps.size()
              << " action(s))\n";
    std::string outcome = deployment.result + " " + what + "; " + std::to_string(plan.steps.size()) + " action(s) in " +
                          std::to_string((*deployment.finished_usec - deployment.started_usec) / 1000) + " ms";
    for (const auto& [unit, why] : failures) outcome += "; " + unit + ": " + why;
    deploy_event(outcome);
    return deployment.id;
}

}  // namespace gitvisor::daemon
