#include "daemon/http/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

using namespace gitvisor::daemon;

namespace {

UnitMetrics unit(std::string name, std::string state, std::string health) {
    UnitMetrics u;
    u.name = std::move(name);
    u.state = std::move(state);
    u.sub_state = "running";
    u.health = std::move(health);
    return u;
}

MetricsSnapshot small_snapshot() {
    MetricsSnapshot s;
    UnitMetrics web = unit("web.service", "active", "healthy");
    web.restarts = 2;
    web.memory_bytes = 1048576;
    web.cpu_usec = 1500000;
    web.tasks = 3;
    s.units.push_back(web);
    s.units.push_back(unit("job@a.service", "failed", ""));
    s.deployments_by_result = {{"applied", 3}, {"superseded", 1}};
    s.deploy_durations_seconds = {0.0078125, 0.25, 2, 100};  // exact in binary, so the sum is too
    s.commit = "8c1f0e2d";
    s.subject = "Say \"hi\" \\ bye\nsecond line";
    s.branch = "main";
    s.start_time_usec = 1795612801500000;
    return s;
}

size_t count_lines(const std::string& text) {
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

size_t count_lines_starting(const std::string& text, const std::string& start) {
    size_t n = 0;
    for (size_t pos = 0; pos < text.size();) {
        if (text.compare(pos, start.size(), start) == 0) ++n;
        const size_t end = text.find('\n', pos);
        if (end == std::string::npos) break;
        pos = end + 1;
    }
    return n;
}

// Runs `command` with `input` on its standard input; its exit status and what it wrote (stdout and stderr).
struct Run {
    int status = -1;
    std::string output;
};

Run run_with_input(const std::string& command, const std::string& input) {
    std::string path = (std::filesystem::temp_directory_path() / "gitvisor-metrics-XXXXXX").string();
    const int fd = mkstemp(path.data());
    REQUIRE(fd >= 0);
    close(fd);
    std::ofstream(path) << input;
    Run run;
    if (FILE* p = popen((command + " < '" + path + "' 2>&1").c_str(), "r")) {
        char buffer[4096];
        size_t n;
        while ((n = fread(buffer, 1, sizeof buffer, p)) > 0) run.output.append(buffer, n);
        const int status = pclose(p);
        run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::filesystem::remove(path);
    return run;
}

}  // namespace

TEST_CASE("the metrics text of a small snapshot, exactly", "[http][metrics]") {
    CHECK(render_metrics(small_snapshot()) ==
          R"(# HELP gitvisor_unit_state Systemd state of the unit: 1 for the current state, 0 for the others.
# TYPE gitvisor_unit_state gauge
gitvisor_unit_state{unit="web.service",state="inactive"} 0
gitvisor_unit_state{unit="web.service",state="activating"} 0
gitvisor_unit_state{unit="web.service",state="active"} 1
gitvisor_unit_state{unit="web.service",state="reloading"} 0
gitvisor_unit_state{unit="web.service",state="deactivating"} 0
gitvisor_unit_state{unit="web.service",state="failed"} 0
gitvisor_unit_state{unit="job@a.service",state="inactive"} 0
gitvisor_unit_state{unit="job@a.service",state="activating"} 0
gitvisor_unit_state{unit="job@a.service",state="active"} 0
gitvisor_unit_state{unit="job@a.service",state="reloading"} 0
gitvisor_unit_state{unit="job@a.service",state="deactivating"} 0
gitvisor_unit_state{unit="job@a.service",state="failed"} 1
# HELP gitvisor_unit_health Health of the unit: 1 for the current health, 0 for the others.
# TYPE gitvisor_unit_health gauge
gitvisor_unit_health{unit="web.service",health="healthy"} 1
gitvisor_unit_health{unit="web.service",health="unhealthy"} 0
gitvisor_unit_health{unit="web.service",health="starting"} 0
gitvisor_unit_health{unit="web.service",health="draining"} 0
gitvisor_unit_health{unit="web.service",health="none"} 0
gitvisor_unit_health{unit="job@a.service",health="healthy"} 0
gitvisor_unit_health{unit="job@a.service",health="unhealthy"} 0
gitvisor_unit_health{unit="job@a.service",health="starting"} 0
gitvisor_unit_health{unit="job@a.service",health="draining"} 0
gitvisor_unit_health{unit="job@a.service",health="none"} 1
# HELP gitvisor_unit_restarts_total Restarts of the unit under its Restart= setting.
# TYPE gitvisor_unit_restarts_total counter
gitvisor_unit_restarts_total{unit="web.service"} 2
gitvisor_unit_restarts_total{unit="job@a.service"} 0
# HELP gitvisor_unit_memory_bytes Memory used by the unit's cgroup.
# TYPE gitvisor_unit_memory_bytes gauge
gitvisor_unit_memory_bytes{unit="web.service"} 1048576
# HELP gitvisor_unit_cpu_seconds_total CPU time used by the unit's cgroup.
# TYPE gitvisor_unit_cpu_seconds_total counter
gitvisor_unit_cpu_seconds_total{unit="web.service"} 1.5
# HELP gitvisor_unit_tasks Tasks (processes and threads) in the unit's cgroup.
# TYPE gitvisor_unit_tasks gauge
gitvisor_unit_tasks{unit="web.service"} 3
# HELP gitvisor_deployments_total Finished deployments by result.
# TYPE gitvisor_deployments_total counter
gitvisor_deployments_total{result="applied"} 3
gitvisor_deployments_total{result="failed"} 0
gitvisor_deployments_total{result="rejected"} 0
gitvisor_deployments_total{result="rolled-back"} 0
gitvisor_deployments_total{result="superseded"} 1
# HELP gitvisor_deploy_duration_seconds Time from the start of a deployment to its end.
# TYPE gitvisor_deploy_duration_seconds histogram
gitvisor_deploy_duration_seconds_bucket{le="0.01"} 1
gitvisor_deploy_duration_seconds_bucket{le="0.025"} 1
gitvisor_deploy_duration_seconds_bucket{le="0.05"} 1
gitvisor_deploy_duration_seconds_bucket{le="0.1"} 1
gitvisor_deploy_duration_seconds_bucket{le="0.25"} 2
gitvisor_deploy_duration_seconds_bucket{le="0.5"} 2
gitvisor_deploy_duration_seconds_bucket{le="1"} 2
gitvisor_deploy_duration_seconds_bucket{le="2.5"} 3
gitvisor_deploy_duration_seconds_bucket{le="5"} 3
gitvisor_deploy_duration_seconds_bucket{le="10"} 3
gitvisor_deploy_duration_seconds_bucket{le="30"} 3
gitvisor_deploy_duration_seconds_bucket{le="60"} 3
gitvisor_deploy_duration_seconds_bucket{le="+Inf"} 4
gitvisor_deploy_duration_seconds_sum 102.2578125
gitvisor_deploy_duration_seconds_count 4
# HELP gitvisor_deployed_commit_info The applied commit, in its labels.
# TYPE gitvisor_deployed_commit_info gauge
gitvisor_deployed_commit_info{commit="8c1f0e2d",subject="Say \"hi\" \\ bye\nsecond line",branch="main"} 1
# HELP gitvisor_start_time_seconds When gitvisord started, in seconds since the Unix epoch.
# TYPE gitvisor_start_time_seconds gauge
gitvisor_start_time_seconds 1795612801.5
)");
}

TEST_CASE("no units and no commit leave their metric families out", "[http][metrics]") {
    MetricsSnapshot s;
    s.start_time_usec = 1795612801000000;
    const std::string text = render_metrics(s);
    CHECK(text.starts_with("# HELP gitvisor_deployments_total "));
    CHECK(text.find("gitvisor_unit_") == std::string::npos);
    CHECK(text.find("gitvisor_deployed_commit_info") == std::string::npos);
    CHECK(text.find("gitvisor_deployments_total{result=\"applied\"} 0\n") != std::string::npos);
    CHECK(text.find("gitvisor_deploy_duration_seconds_bucket{le=\"+Inf\"} 0\n") != std::string::npos);
    CHECK(text.find("gitvisor_deploy_duration_seconds_sum 0\ngitvisor_deploy_duration_seconds_count 0\n") !=
          std::string::npos);
    CHECK(text.ends_with("gitvisor_start_time_seconds 1795612801\n"));
}

TEST_CASE("metric label values are escaped and made valid UTF-8", "[http][metrics]") {
    MetricsSnapshot s;
    s.units.push_back(
        unit("a\\b\"c\nd\xff"
             "e\xc3\xa9.service",
             "weird", "unknown"));
    const std::string text = render_metrics(s);
    CHECK(text.find("gitvisor_unit_restarts_total{unit=\"a\\\\b\\\"c\\nd\xEF\xBF\xBD"
                    "e\xc3\xa9.service\"} 0\n") != std::string::npos);
    // A state or health outside the known sets marks none of them.
    CHECK(count_lines_starting(text, "gitvisor_unit_state{") == 6);
    CHECK(text.find("\"} 1\n") == std::string::npos);
}

TEST_CASE("deploy durations land in the right buckets, edges included, and +Inf equals the count",
          "[http][metrics]") {
    MetricsSnapshot s;
    s.deploy_durations_seconds = {0.01, 0.0100001, 60, 60.5, -1, std::numeric_limits<double>::quiet_NaN()};
    const std::string text = render_metrics(s);
    CHECK(text.find("_bucket{le=\"0.01\"} 2\n") != std::string::npos);  // -1 and 0.01
    CHECK(text.find("_bucket{le=\"0.025\"} 3\n") != std::string::npos);
    CHECK(text.find("_bucket{le=\"60\"} 4\n") != std::string::npos);
    CHECK(text.find("_bucket{le=\"+Inf\"} 5\n") != std::string::npos);  // NaN is not counted
    CHECK(text.find("gitvisor_deploy_duration_seconds_count 5\n") != std::string::npos);
}

TEST_CASE("metrics of 1,000 units: every series is there", "[http][metrics]") {
    MetricsSnapshot s = small_snapshot();
    s.units.clear();
    for (int i = 0; i < 1000; ++i) {
        UnitMetrics u =
            unit("worker@" + std::to_string(i) + ".service", i % 7 ? "active" : "failed", "healthy");
        u.memory_bytes = 1000000 + i;
        u.cpu_usec = 1000 * i;
        u.tasks = i % 5;
        s.units.push_back(u);
    }
    const std::string text = render_metrics(s);
    // 6 state + 5 health + restarts + memory + cpu + tasks per unit; 6 unit families of 2 comment lines;
    // deployments (2 + 5 results), histogram (2 + 13 buckets + sum + count), commit (2 + 1), start (2 + 1).
    CHECK(count_lines(text) == 1000 * 15 + 6 * 2 + 7 + 17 + 3 + 3);
    CHECK(count_lines_starting(text, "gitvisor_unit_state{") == 6000);
    CHECK(count_lines_starting(text, "gitvisor_unit_health{") == 5000);
    CHECK(count_lines_starting(text, "gitvisor_unit_state{unit=\"worker@0.service\",state=\"failed\"} 1") ==
          1);
    CHECK(count_lines_starting(text, "gitvisor_unit_tasks{unit=\"worker@999.service\"} 4") == 1);
    CHECK(text.size() > 1000 * 15 * 50);
}

TEST_CASE("promtool accepts the metrics text of three units", "[http][metrics][promtool]") {
    if (access("/usr/bin/promtool", X_OK) != 0) {
        WARN("skipped: /usr/bin/promtool is not installed (Debian package prometheus)");
        SUCCEED();
        return;
    }
    MetricsSnapshot s = small_snapshot();
    UnitMetrics third = unit("db.service", "activating", "starting");
    third.memory_bytes = 0;
    s.units.push_back(third);
    const Run run = run_with_input("/usr/bin/promtool check metrics", render_metrics(s));
    INFO(run.output);
    CHECK(run.status == 0);
    CHECK(run.output.empty());
}
