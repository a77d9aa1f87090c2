// Figures 7 and 8: deploys seen from outside. How long `gitvisor rollback REV` takes, and what a one-unit
// change costs in a repository of many units.

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "common/json_reader.h"
#include "daemon_bench.h"

namespace gitvisor::bench {
namespace {

const std::vector<std::string> kRollbackUnits = {"rollback-a.service", "rollback-b.service",
                                                 "rollback-c.service"};

std::string rollback_unit(int version) {
    return "[Unit]\nDescription=daemon_bench: rolled back and forth\n\n[Service]\nEnvironment=V=" +
           std::to_string(version) + "\nExecStart=/bin/sleep infinity\n";
}

constexpr const char* kOneUnit = "one.service";

std::string one_unit(int round) {
    return "[Unit]\nDescription=daemon_bench: the one unit of a large repository that runs here\n\n"
           "[Service]\nEnvironment=BENCH_ROUND=" +
           std::to_string(round) + "\nExecStart=/bin/sleep infinity\n";
}

// Each filler's text differs (as real units do), so each is a blob of its own for gitvisord to read.
std::string filler_unit(int index) {
    return "[Unit]\nDescription=daemon_bench: filler " + std::to_string(index) +
           ", meant for another host\nConditionHost=no-such-host\n\n"
           "[Service]\nExecStart=/bin/sleep infinity\n";
}

std::string text_member(const JsonValue& object, const char* key) {
    const JsonValue* v = object.find(key);
    return v ? v->as_string() : std::string();
}

}  // namespace

void Bench::rollback_latency() {
    // 1. v1: units a, b and c; v2: a and b changed. The branch ends at v2.
    const std::string& a = kRollbackUnits[0];
    const std::string& b = kRollbackUnits[1];
    const std::string& c = kRollbackUnits[2];
    for (const std::string& u : kRollbackUnits) m_files[u] = rollback_unit(1);
    const UnitRepo::Landed v1 = commit("bench: rollback v1");
    wait_deployed(v1.commit, 60);
    wait_units(kRollbackUnits, true, 30);
    m_files[a] = m_files[b] = rollback_unit(2);
    const UnitRepo::Landed v2 = commit("bench: rollback v2");
    wait_deployed(v2.commit, 60);
    wait_units(kRollbackUnits, true, 30);
    m_repo.check_out_tip();  // the benchmark's commits left the work tree behind; a rollback needs it clean

    // 2. Rollbacks to v1, v2, v1... each from the CLI's spawn until it returns.
    const std::string procs_a = procs_file(a), procs_b = procs_file(b), procs_c = procs_file(c);
    std::vector<double> latency, recorded;
    int late = 0, c_restarted = 0;
    double most_late_ms = 0;
    for (int i = -m_options.warmup; i < m_options.rollbacks; ++i) {
        const std::string& target = (i + m_options.warmup) % 2 == 0 ? v1.commit : v2.commit;
        const std::vector<pid_t> before_a = cgroup_pids(procs_a), before_b = cgroup_pids(procs_b);
        const pid_t main_c = main_process(procs_c, 0);
        std::string out;
        const Clock::time_point start = Clock::now();
        const int code = m_session.cli({"--json", "rollback", target}, &out);
        const Clock::time_point end = Clock::now();
        if (code != 0)
            throw std::runtime_error("`gitvisor rollback " + target.substr(0, 7) + "` exited " +
                                     std::to_string(code) + ": " + out);
        // The deploy it triggered is recorded as applied, and the changed units run new main processes.
        Clock::time_point seen;
        const bool at_return =
            new_main_process(procs_a, before_a, 0, &seen) && new_main_process(procs_b, before_b, 0, &seen);
        const Result<JsonValue> json = parse_json(out);
        const JsonValue* deployment = json && json->is_object() ? json->find("deployment") : nullptr;
        if (!deployment || !deployment->is_object() || text_member(*deployment, "result") != "applied")
            throw std::runtime_error("`gitvisor rollback " + target.substr(0, 7) +
                                     "` returned without an applied deploy: " + out);
        const std::string rollback_commit = text_member(*json, "commit");
        if (!at_return && (!new_main_process(procs_a, before_a, 10, &seen) ||
                           !new_main_process(procs_b, before_b, 10, &seen)))
            throw std::runtime_error("no new main process of " + a + " or " + b + " 10 s after a rollback");
        const double deploy_ms = wait_deployed(rollback_commit, 10);
        if (main_process(procs_c, 0) != main_c) ++c_restarted;
        pause_for(std::chrono::milliseconds(20));
        if (i < 0) continue;
        latency.push_back(milliseconds_between(start, end));
        recorded.push_back(deploy_ms);
        if (at_return) continue;
        ++late;
        most_late_ms = std::max(most_late_ms, milliseconds_between(end, seen));
    }

    // 3. The units go; the branch's last rollback commit stays in history.
    for (const std::string& u : kRollbackUnits) m_files.erase(u);
    const UnitRepo::Landed removed = commit("bench: no more rollback units");
    wait_deployed(removed.commit, 60);
    wait_units(kRollbackUnits, false, 30);

    const std::string n = std::to_string(m_options.rollbacks);
    const std::string method =
        "posix_spawn of `gitvisor --json rollback REV` until waitpid returns, REV alternately v1 "
        "(units a, b, c) and v2 (a and b changed), each restarting a and b; checked: the deploy "
        "applied, new main processes of a and b; " +
        n + " rollbacks";
    add({"rollback_p50_ms", "`gitvisor rollback REV` until it returns, median (" + n + ")", median(latency),
         "ms", 50.0, latency, method});
    add({"rollback_p90_ms", "`gitvisor rollback REV` p90", percentile(latency, 90), "ms", std::nullopt,
         latency, method});
    add({"rollback_deploy_recorded_p50_ms", "  its deploy duration recorded by gitvisord, p50",
         median(recorded), "ms", std::nullopt, recorded,
         "duration_ms of the rollback's deployment in `gitvisor --json history`"});
    if (late > 0) {
        // Type=simple: gitvisor-exec reports a start done once it has forked, as systemd does.
        char lag[32];
        std::snprintf(lag, sizeof lag, "%.2f ms", most_late_ms);
        m_report.notes.push_back("rollback: in " + std::to_string(late) + " of " + n +
                                 " rollbacks the CLI returned before a new main process had executed "
                                 "/bin/sleep (at most " +
                                 std::string(lag) +
                                 " later; Type=simple units count as started once forked)");
    }
    if (c_restarted > 0)
        m_report.notes.push_back("rollback: the unchanged unit c was restarted by " +
                                 std::to_string(c_restarted) + " rollback(s)");
}

void Bench::big_repository() {
    for (int units : m_options.repo_units) one_change_among(units);
}

void Bench::one_change_among(int units) {
    // 1. `units` fillers that no unit of this host is (ConditionHost=) and one.service, in one commit.
    std::vector<std::string> fillers;
    char name[64];
    for (int i = 0; i < units; ++i) {
        std::snprintf(name, sizeof name, "other-host-%05d.service", i);
        fillers.emplace_back(name);
        m_files[name] = filler_unit(i);
    }
    int round = 0;
    m_files[kOneUnit] = one_unit(round);
    const std::string n = thousands(units);
    const double timeout = 120 + units * 0.02;
    const UnitRepo::Landed added = commit("bench: " + n + " units for another host and one for this one");
    const double first_deploy_ms = wait_deployed(added.commit, timeout);
    wait_units({kOneUnit}, true, 30);

    // 2. One-unit changes, timed as figure 1 is.
    const std::string procs = procs_file(kOneUnit);
    std::vector<double> latency, deploy;
    for (int i = -m_options.warmup; i < m_options.big_commits; ++i) {
        m_files[kOneUnit] = one_unit(++round);
        const std::vector<pid_t> before = cgroup_pids(procs);
        const UnitRepo::Landed landed = commit("bench: one unit of " + n + " changed");
        Clock::time_point seen;
        if (!new_main_process(procs, before, timeout, &seen))
            throw std::runtime_error("no new main process of " + std::string(kOneUnit) + " " +
                                     std::to_string(static_cast<int>(timeout)) + " s after a commit");
        const double deploy_ms = wait_deployed(landed.commit, timeout);
        pause_for(std::chrono::milliseconds(20));
        if (i < 0) continue;
        latency.push_back(milliseconds_between(landed.ref_done, seen));
        deploy.push_back(deploy_ms);
    }

    // 3. All of them go, in one commit.
    for (const std::string& f : fillers) m_files.erase(f);
    m_files.erase(kOneUnit);
    const UnitRepo::Landed removed = commit("bench: no more large repository");
    wait_deployed(removed.commit, timeout);
    wait_units({kOneUnit}, false, 30);

    const bool judged = units == 10000;
    const std::string id = "one_change_in_" + std::to_string(units);
    const std::string commits = std::to_string(m_options.big_commits);
    const std::string method = "a repository of " + n +
                               " distinct units with ConditionHost=no-such-host (loose objects) and "
                               "one.service; commits changing one.service's Environment=, timed as "
                               "commit-to-running (branch update to its new main process)";
    add({id + "_p50_ms", "one-unit change among " + n + " units, median (" + commits + ")", median(latency),
         "ms", judged ? std::optional<double>(50.0) : std::nullopt, latency, method});
    add({id + "_max_ms", "  max", percentile(latency, 100), "ms", std::nullopt, latency,
         "the slowest of the same commits"});
    add({id + "_deploy_recorded_ms", "  deploy duration recorded by gitvisord, median", median(deploy), "ms",
         std::nullopt, deploy, "duration_ms of each of those deployments in `gitvisor --json history`"});
    const std::vector<double> first = {first_deploy_ms};
    add({id + "_first_deploy_ms", "  deploy of the commit adding the " + n + " units (recorded)",
         first_deploy_ms, "ms", std::nullopt, first,
         "duration_ms of the deployment of the commit adding the units"});
    if (!judged)
        m_report.notes.push_back(
            "the 50 ms one-unit-change target is for 10,000 units; it is not judged at " + n);
}

}  // namespace gitvisor::bench
