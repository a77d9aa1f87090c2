#pragma once
// daemon_bench's figures, measured in one session of the real gitvisord (bench/README.md gives each one's
// method, which is fixed so that runs compare). The figures share the session, the unit repository and the
// tree of the next commit; each leaves the units it added removed again, except the three base units.
//   daemon_bench.cpp          options, the base units and figures 1-5, main()
//   daemon_bench_logs.cpp     figure 6: `gitvisor logs -f` latency
//   daemon_bench_deploys.cpp  figures 7 and 8: rollback latency, a one-unit change in a large repository
//   daemon_bench_health.cpp   figures 9 and 10: CPU of 500 units' HTTP checks, /metrics of 1,000 units
//   daemon_bench_rest.cpp     figure 11: memory and wake-ups of gitvisord and the gitvisor-exec at rest

#include <sys/types.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "daemon_bench_probe.h"
#include "daemon_bench_repo.h"
#include "daemon_bench_report.h"
#include "daemon_bench_session.h"

namespace gitvisor::bench {

constexpr int kFigureCount = 11;
constexpr const char* kMainName = "sleep";  // /proc/PID/comm of a unit's ExecStart=/bin/sleep infinity

struct Options {
    std::set<int> figures = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    std::vector<int> unit_counts = {100, 1000};
    int commits = 30;
    int kills = 20;
    int status_runs = 200;
    int bringup_runs = 3;
    int log_lines = 250;
    int rollbacks = 20;
    std::vector<int> repo_units = {100, 10000};
    int big_commits = 15;
    int warmup = 5;
    int health_units = 500;
    int health_seconds = 30;
    int metrics_units = 1000;
    int scrapes = 50;
    int rest_units = 100;   // figure 11: units running while gitvisor is at rest
    int idle_seconds = 30;  // figure 11: how long wake-ups are counted
    int http_port = 0;      // gitvisord's --http port (picked at start)
    std::chrono::microseconds poll{200};
    std::string run_base;
    std::string json_path;
    Binaries binaries;
};

double median(const std::vector<double>& samples);
std::string thousands(int n);

class Bench {
public:
    Bench(const Options& options, Session& session, UnitRepo& repo, Report& report)
        : m_options(options), m_session(session), m_repo(repo), m_report(report) {}

    void deploy_base_units();
    void status_round_trip();    // figure 4
    void commit_to_running();    // figure 1
    void crash_to_restart();     // figure 3
    void bring_up_and_memory();  // figures 2 and 5
    void logs_follow();          // figure 6
    void rollback_latency();     // figure 7
    void big_repository();       // figure 8
    void health_cpu();           // figure 9
    void metrics_render();       // figure 10
    void at_rest();              // figure 11

private:
    UnitRepo::Landed commit(const std::string& message) { return m_repo.commit(m_files, message); }
    double wait_deployed(const std::string& commit, double seconds);
    void wait_units(const std::vector<std::string>& units, bool present, double seconds);
    std::string procs_file(const std::string& unit) const;
    pid_t main_process(const std::string& procs, pid_t other_than) const;
    // True, with the time it was seen, once a pid not in `before` is in `procs` and has executed
    // /bin/sleep; polls every --poll-us for at most `seconds` (0: looks once).
    bool new_main_process(const std::string& procs, const std::vector<pid_t>& before, double seconds,
                          Clock::time_point* seen) const;
    std::vector<Figure> measure_memory(int units);
    // Figure 8 at one repository size: appends its figures.
    void one_change_among(int units);
    void add(Figure figure) { m_report.figures.push_back(std::move(figure)); }

    const Options& m_options;
    Session& m_session;
    UnitRepo& m_repo;
    Report& m_report;
    std::map<std::string, std::string> m_files;  // the tree of the next commit
    int m_round = 0;
};

}  // namespace gitvisor::bench
