#include "daemon/http/metrics.h"

#include <charconv>
#include <cmath>
#include <iterator>
#include <string_view>

#include "common/utf8.h"

namespace gitvisor::daemon {
namespace {

constexpr std::string_view kStates[] = {"inactive",  "activating",   "active",
                                        "reloading", "deactivating", "failed"};
constexpr std::string_view kHealths[] = {"healthy", "unhealthy", "starting", "draining", "none"};
constexpr std::string_view kKnownResults[] = {"applied", "rejected", "failed", "rolled-back"};
constexpr size_t kBucketCount = std::size(kDeployDurationBuckets);

// Appends samples to one string; every line is built in place (no stream, no temporary per line).
class Writer {
public:
    explicit Writer(size_t expected) { m_out.reserve(expected); }

    // Starts a family; its # HELP and # TYPE lines are written with its first sample, so that a family
    // without samples (no units, no commit) is left out as a whole, as the Prometheus clients do.
    void family(std::string_view name, std::string_view type, std::string_view help) {
        m_family = name;
        m_type = type;
        m_help = help;
        m_header_due = true;
    }

    // A sample: begin(), then label()..., then value().
    void begin(std::string_view name) {
        if (m_header_due) {
            m_out.append("# HELP ").append(m_family).append(" ").append(m_help).append("\n");
            m_out.append("# TYPE ").append(m_family).append(" ").append(m_type).append("\n");
            m_header_due = false;
        }
        m_out.append(name);
        m_first_label = true;
    }
    void label(std::string_view key, std::string_view value) {
        m_out.push_back(m_first_label ? '{' : ',');
        m_first_label = false;
        m_out.append(key).append("=\"");
        append_escaped(value);
        m_out.push_back('"');
    }
    void value(int64_t v) {
        close_labels();
        char buffer[24];
        const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;
        m_out.append(buffer, end).push_back('\n');
    }
    void value(double v) {
        close_labels();
        append_double(v);
        m_out.push_back('\n');
    }

    void append_double(double v) {
        if (std::isnan(v)) {
            m_out.append("NaN");
        } else if (std::isinf(v)) {
            m_out.append(v > 0 ? "+Inf" : "-Inf");
        } else {
            char buffer[32];
            const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;  // shortest exact form
            m_out.append(buffer, end);
        }
    }

    std::string take() { return std::move(m_out); }

private:
    void close_labels() {
        if (!m_first_label) m_out.push_back('}');
        m_out.push_back(' ');
    }

    void append_escaped(std::string_view text) {
        for (size_t i = 0; i < text.size();) {
            const unsigned char c = static_cast<unsigned char>(text[i]);
            if (c == '\\' || c == '"') {
                m_out.push_back('\\');
                m_out.push_back(static_cast<char>(c));
                ++i;
            } else if (c == '\n') {
                m_out.append("\\n");
                ++i;
            } else if (c < 0x80) {
                m_out.push_back(static_cast<char>(c));
                ++i;
            } else if (const size_t n = utf8_sequence_length(text, i); n > 0) {
                m_out.append(text.substr(i, n));
                i += n;
            } else {
                m_out.append("\xEF\xBF\xBD");  // U+FFFD
                ++i;
            }
        }
    }

    std::string m_out;
    std::string_view m_family, m_type, m_help;
    bool m_header_due = false;
    bool m_first_label = true;
};

void unit_states(Writer& w, const std::vector<UnitMetrics>& units) {
    w.family("gitvisor_unit_state", "gauge",
             "Systemd state of the unit: 1 for the current state, 0 for the others.");
    for (const UnitMetrics& u : units) {
        for (const std::string_view state : kStates) {
            w.begin("gitvisor_unit_state");
            w.label("unit", u.name);
            w.label("state", state);
            w.value(int64_t{u.state == state});
        }
    }
    w.family("gitvisor_unit_health", "gauge",
             "Health of the unit: 1 for the current health, 0 for the others.");
    for (const UnitMetrics& u : units) {
        const std::string_view health = u.health.empty() ? "none" : std::string_view(u.health);
        for (const std::string_view h : kHealths) {
            w.begin("gitvisor_unit_health");
            w.label("unit", u.name);
            w.label("health", h);
            w.value(int64_t{health == h});
        }
    }
    w.family("gitvisor_unit_restarts_total", "counter", "Restarts of the unit under its Restart= setting.");
    for (const UnitMetrics& u : units) {
        w.begin("gitvisor_unit_restarts_total");
        w.label("unit", u.name);
        w.value(u.restarts);
    }
}

void unit_resources(Writer& w, const std::vector<UnitMetrics>& units) {
    w.family("gitvisor_unit_memory_bytes", "gauge", "Memory used by the unit's cgroup.");
    for (const UnitMetrics& u : units) {
        if (!u.memory_bytes) continue;
        w.begin("gitvisor_unit_memory_bytes");
        w.label("unit", u.name);
        w.value(*u.memory_bytes);
    }
    w.family("gitvisor_unit_cpu_seconds_total", "counter", "CPU time used by the unit's cgroup.");
    for (const UnitMetrics& u : units) {
        if (!u.cpu_usec) continue;
        w.begin("gitvisor_unit_cpu_seconds_total");
        w.label("unit", u.name);
        w.value(static_cast<double>(*u.cpu_usec) / 1e6);
    }
    w.family("gitvisor_unit_tasks", "gauge", "Tasks (processes and threads) in the unit's cgroup.");
    for (const UnitMetrics& u : units) {
        if (!u.tasks) continue;
        w.begin("gitvisor_unit_tasks");
        w.label("unit", u.name);
        w.value(*u.tasks);
    }
}

void deployments(Writer& w, const MetricsSnapshot& s) {
    w.family("gitvisor_deployments_total", "counter", "Finished deployments by result.");
    std::map<std::string_view, int64_t> results(s.deployments_by_result.begin(),
                                                s.deployments_by_result.end());
    for (const std::string_view known : kKnownResults) results.emplace(known, 0);
    for (const auto& [result, count] : results) {
        w.begin("gitvisor_deployments_total");
        w.label("result", result);
        w.value(count);
    }

    // Each duration is counted in its own bucket first, then the counts are made cumulative.
    int64_t in_bucket[kBucketCount + 1] = {};
    int64_t count = 0;
    double sum = 0;
    for (const double d : s.deploy_durations_seconds) {
        if (!std::isfinite(d)) continue;
        size_t b = 0;
        while (b < kBucketCount && d > kDeployDurationBuckets[b]) ++b;
        ++in_bucket[b];
        ++count;
        sum += d;
    }
    w.family("gitvisor_deploy_duration_seconds", "histogram",
             "Time from the start of a deployment to its end.");
    int64_t cumulative = 0;
    for (size_t b = 0; b <= kBucketCount; ++b) {
        cumulative += in_bucket[b];
        char le[32] = "+Inf";
        if (b < kBucketCount) *std::to_chars(le, le + sizeof le - 1, kDeployDurationBuckets[b]).ptr = '\0';
        w.begin("gitvisor_deploy_duration_seconds_bucket");
        w.label("le", le);
        w.value(cumulative);
    }
    w.begin("gitvisor_deploy_duration_seconds_sum");
    w.value(sum);
    w.begin("gitvisor_deploy_duration_seconds_count");
    w.value(count);
}

}  // namespace

std::string render_metrics(const MetricsSnapshot& s) {
    // About 16 lines of ~70 bytes per unit, and a little for the rest.
    size_t expected = 4096 + s.commit.size() + s.subject.size() + s.branch.size();
    for (const UnitMetrics& u : s.units) expected += 16 * (64 + u.name.size());
    Writer w(expected);

    unit_states(w, s.units);
    unit_resources(w, s.units);
    deployments(w, s);
    w.family("gitvisor_deployed_commit_info", "gauge", "The applied commit, in its labels.");
    if (!s.commit.empty()) {
        w.begin("gitvisor_deployed_commit_info");
        w.label("commit", s.commit);
        w.label("subject", s.subject);
        w.label("branch", s.branch);
        w.value(int64_t{1});
    }
    w.family("gitvisor_start_time_seconds", "gauge",
             "When gitvisord started, in seconds since the Unix epoch.");
    w.begin("gitvisor_start_time_seconds");
    w.value(static_cast<double>(s.start_time_usec) / 1e6);
    return w.take();
}

}  // namespace gitvisor::daemon
