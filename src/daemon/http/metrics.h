#pragma once
// GET /metrics (DESIGN §8): what gitvisord knows, in the Prometheus text exposition format 0.0.4.
// Rendering is a pure function of a snapshot the daemon fills under its own lock, so a scrape never holds
// that lock while text is built. State and health follow node_exporter's systemd collector: one series per
// unit per possible value, 1 for the current one and 0 for the others, so that a query needs no `absent()`.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gitvisor::daemon {

struct UnitMetrics {
    std::string name;
    std::string state;      // inactive | activating | active | reloading | deactivating | failed
    std::string sub_state;  // not rendered (its values are open-ended); kept for the daemon's own use
    std::string health;     // healthy | unhealthy | starting | draining | none ("" counts as none)
    int64_t restarts = 0;
    std::optional<int64_t> memory_bytes;  // empty: the sample is left out
    std::optional<int64_t> cpu_usec;
    std::optional<int64_t> tasks;
};

struct MetricsSnapshot {
    std::vector<UnitMetrics> units;
    // applied, rejected, failed, rolled-back, superseded, interrupted...: the first four are always rendered
    // (0 when absent) so that rate() works from the first scrape; any other key is rendered as given.
    std::map<std::string, int64_t> deployments_by_result;
    std::vector<double> deploy_durations_seconds;  // every finished deploy's duration
    std::string commit, subject, branch;           // the applied commit (empty when none)
    int64_t start_time_usec = 0;                   // when gitvisord started
};

// Buckets of gitvisor_deploy_duration_seconds (+Inf comes after them).
inline constexpr double kDeployDurationBuckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

// The exposition text (Content-Type: text/plain; version=0.0.4; charset=utf-8). Families, each with its
// # HELP and # TYPE lines, in this order:
//   gitvisor_unit_state{unit,state}            gauge    6 series per unit
//   gitvisor_unit_health{unit,health}          gauge    5 series per unit
//   gitvisor_unit_restarts_total{unit}         counter
//   gitvisor_unit_memory_bytes{unit}           gauge    only units with memory_bytes
//   gitvisor_unit_cpu_seconds_total{unit}      counter  only units with cpu_usec
//   gitvisor_unit_tasks{unit}                  gauge    only units with tasks
//   gitvisor_deployments_total{result}         counter
//   gitvisor_deploy_duration_seconds           histogram (_bucket{le}, _sum, _count)
//   gitvisor_deployed_commit_info{commit,subject,branch} gauge, 1; left out when no commit is applied
//   gitvisor_start_time_seconds                gauge
// A family without samples (no units, no commit) is left out, # HELP and # TYPE included. Label values
// are escaped as the format requires (\\, \", \n); invalid UTF-8 becomes U+FFFD. Non-finite durations
// are not counted.
std::string render_metrics(const MetricsSnapshot& snapshot);

}  // namespace gitvisor::daemon
