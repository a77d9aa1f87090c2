// Runs daemon_bench's workloads against another supervisor (runit or supervisord, from Debian's packages)
// through its own configuration files and CLI, with its default settings, in a folder and a cgroup of its
// own, and prints the figures with the ids daemon_bench gives gitvisor's, so that bench/run can set them
// side by side. bench/README.md says how each is measured and what each peer does by design.
//
// Usage: peer_bench --peer runit|supervisord [--units LIST] [--bringup-runs N] [--kills N]
//                   [--status-runs N] [--warmup N] [--rest-units N] [--idle-seconds N]
//                   [--kill-spacing-ms N] [--poll-us N] [--json PATH]
// Exit status: 0 when every figure was measured, 1 on an error or when clean-up left something, 2 on a
// usage error, 130 when interrupted.

#include "peer_bench.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "daemon_bench_probe.h"
#include "daemon_bench_report.h"
#include "daemon_bench_session.h"
#include "peer_sandbox.h"

namespace gitvisor::bench {

std::string package_version(const std::string& package) {
    std::string out;
    if (run_program({"/usr/bin/dpkg-query", "-W", "-f=${Version}", package}, &out) != 0) return "";
    return out;
}

namespace {

constexpr const char* kCrashService = "bench-crash";
constexpr const char* kStatusService = "bench-status";
constexpr const char* kMainName = "sleep";  // /proc/PID/comm of a service's /bin/sleep infinity

struct Options {
    std::string peer;
    std::vector<int> unit_counts = {100, 1000};
    int bringup_runs = 3;
    int kills = 20;
    int status_runs = 200;
    int warmup = 5;
    int rest_units = 100;
    int idle_seconds = 30;
    std::chrono::milliseconds kill_spacing{1200};
    std::chrono::microseconds poll{200};
    std::string json_path;
};

std::string thousands(int n) {
    std::string digits = std::to_string(n);
    for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3)
        digits.insert(static_cast<size_t>(at), ",");
    return digits;
}

double median(const std::vector<double>& samples) { return percentile(samples, 50); }

std::vector<std::string> numbered(const char* prefix, int count) {
    std::vector<std::string> names;
    char name[64];
    for (int i = 0; i < count; ++i) {
        std::snprintf(name, sizeof name, "%s-%05d", prefix, i);
        names.push_back(name);
    }
    return names;
}

class PeerBench {
public:
    PeerBench(const Options& options, const Peer& peer, PeerSandbox& sandbox, Report& report)
        : m_options(options), m_peer(peer), m_sandbox(sandbox), m_report(report) {}

    void status_and_crash();  // daemon_bench's figures 4 and 3, on one run of two services
    void cold_starts();       // figure 2: the supervisor started with N services, until all run
    void at_rest();           // figure 11: memory and wake-ups with --rest-units services

private:
    struct Started {
        double running_s = 0;  // until the peer's status says every service runs
        double started_s = 0;  // until it says every service has a process
    };
    // Configures `services`, starts the supervisor in the next second of the wall clock and polls its
    // status tool (every 10 ms after the last answer) until every service runs. Times are from the fork of
    // the supervisor to the return of the status command that said so.
    Started start_and_wait(const std::vector<std::string>& services);
    // Stops the supervisor and everything it runs; the seconds it took.
    double stop_all();
    PeerStatus status_of(const std::vector<std::string>& services) const;
    void add(Figure figure) { m_report.figures.push_back(std::move(figure)); }

    const Options& m_options;
    const Peer& m_peer;
    PeerSandbox& m_sandbox;
    Report& m_report;
    std::vector<double> m_poll_ms;  // how long each status poll of the cold starts took
};

PeerStatus PeerBench::status_of(const std::vector<std::string>& services) const {
    std::string out;
    run_program(m_peer.status_argv(m_sandbox.dir(), services), &out);
    return m_peer.parse_status(out);
}

PeerBench::Started PeerBench::start_and_wait(const std::vector<std::string>& services) {
    const int count = static_cast<int>(services.size());
    m_peer.configure(m_sandbox.dir(), services);
    const std::vector<std::string> status = m_peer.status_argv(m_sandbox.dir(), {});
    // At boot the configuration was written long before; here it was written just now, and runsvdir does
    // not scan a folder changed in the current second of the wall clock. So the start waits for the next.
    const time_t written = ::time(nullptr);
    while (::time(nullptr) == written) pause_for(std::chrono::milliseconds(5));
    pause_for(std::chrono::milliseconds(20));
    Started times;
    bool all_started = false;
    std::string out;
    const Clock::time_point start = Clock::now();
    m_sandbox.start(m_peer.supervisor_argv(m_sandbox.dir()), m_peer.stop_signal());
    const double timeout = 60 + count * 0.2;
    const bool done = wait_until(
        [&] {
            if (!m_sandbox.supervisor_running())
                throw std::runtime_error(m_peer.name() + " exited at start-up:\n" + m_sandbox.log_tail());
            const Clock::time_point asked = Clock::now();
            run_program(status, &out);
            const Clock::time_point answered = Clock::now();
            m_poll_ms.push_back(milliseconds_between(asked, answered));
            const PeerStatus s = m_peer.parse_status(out);
            if (!all_started && s.started >= count) {
                all_started = true;
                times.started_s = milliseconds_between(start, answered) / 1000;
            }
            if (s.running < count) return false;
            times.running_s = milliseconds_between(start, answered) / 1000;
            return true;
        },
        timeout, std::chrono::milliseconds(10));
    if (!done)
        throw std::runtime_error("not every one of " + std::to_string(count) + " services of " +
                                 m_peer.name() + " runs after " + std::to_string(static_cast<int>(timeout)) +
                                 " s; its status said:\n" + out.substr(0, 2000));
    return times;
}

double PeerBench::stop_all() {
    const Clock::time_point start = Clock::now();
    if (!m_sandbox.stop(120))
        m_report.notes.push_back(m_peer.name() +
                                 " did not stop everything within 120 s: the rest was killed");
    return milliseconds_between(start, Clock::now()) / 1000;
}

void PeerBench::status_and_crash() {
    start_and_wait({kCrashService, kStatusService});

    // 1. The status round trip, as daemon_bench's figure 4: spawn, output to /dev/null, until waitpid.
    const std::vector<std::string> status = m_peer.status_argv(m_sandbox.dir(), {kStatusService});
    std::vector<double> round_trip, spawn_only;
    for (int i = -m_options.warmup; i < m_options.status_runs; ++i) {
        throw_if_interrupted();
        const Clock::time_point start = Clock::now();
        const int code = run_program(status);
        const Clock::time_point end = Clock::now();
        if (code != 0) throw std::runtime_error(m_peer.status_label() + " exited " + std::to_string(code));
        const Clock::time_point base_start = Clock::now();
        run_program({"/bin/true"});
        const Clock::time_point base_end = Clock::now();
        if (i < 0) continue;
        round_trip.push_back(milliseconds_between(start, end));
        spawn_only.push_back(milliseconds_between(base_start, base_end));
    }
    const std::string runs = std::to_string(m_options.status_runs);
    const std::string status_method = "posix_spawn of " + m_peer.status_label() +
                                      " (output to /dev/null) until waitpid returns, " + runs + " runs";
    add({"status_round_trip_p50_ms", m_peer.status_label() + " round trip p50", median(round_trip), "ms",
         std::nullopt, round_trip, status_method});
    add({"status_round_trip_p99_ms", m_peer.status_label() + " round trip p99", percentile(round_trip, 99),
         "ms", std::nullopt, round_trip, status_method});
    add({"spawn_true_p50_ms", "  for scale: spawning /bin/true, p50", median(spawn_only), "ms", std::nullopt,
         spawn_only, "the same spawn and wait of /bin/true, interleaved with the status runs"});

    // 2. kill -9 of the main process until a new one has executed /bin/sleep, as daemon_bench's figure 3;
    //    the pid to kill is the one the peer reports. Kills are spaced (see the peer's caveats).
    const std::string procs = m_sandbox.procs_file();
    std::vector<double> latency;
    for (int i = -m_options.warmup; i < m_options.kills; ++i) {
        pid_t main = 0;
        if (!wait_until(
                [&] {
                    main = m_peer.main_pid(m_sandbox.dir(), kCrashService);
                    return main > 0 && process_name(main) == kMainName;
                },
                10, std::chrono::milliseconds(10)))
            throw std::runtime_error(std::string(kCrashService) + " has no main process");
        const std::vector<pid_t> before = cgroup_pids(procs);
        const Clock::time_point killed = Clock::now();
        ::kill(main, SIGKILL);
        Clock::time_point seen;
        const bool restarted = wait_until(
            [&] {
                for (pid_t pid : cgroup_pids(procs)) {
                    if (std::find(before.begin(), before.end(), pid) != before.end()) continue;
                    if (process_name(pid) != kMainName) continue;
                    seen = Clock::now();
                    return true;
                }
                return false;
            },
            10, m_options.poll);
        if (!restarted)
            throw std::runtime_error(std::string(kCrashService) + " was not restarted 10 s after kill -9");
        // A restart may wait for a tick of the peer's loop (supervisord's is 1 s): kills are spread over
        // a second, always the same way (the fractions of i × the golden ratio), so that they do not all
        // land at the same point of a tick.
        const double spread = std::fmod((i + m_options.warmup) * 0.6180339887498949, 1.0);
        pause_for(m_options.kill_spacing + std::chrono::microseconds(static_cast<int64_t>(spread * 1e6)));
        if (!wait_until([&] { return status_of({kCrashService}).running == 1; }, 10,
                        std::chrono::milliseconds(10)))
            throw std::runtime_error(std::string(kCrashService) + " is not running again 10 s after kill -9");
        if (i >= 0) latency.push_back(milliseconds_between(killed, seen));
    }
    const std::string kills = std::to_string(m_options.kills);
    const std::string method =
        "kill(SIGKILL) of the main process the peer reports to a new pid in the peer's "
        "cgroup.procs running /bin/sleep, polled every " +
        std::to_string(m_options.poll.count()) + " µs; each kill " +
        std::to_string(m_options.kill_spacing.count()) +
        " ms + a fraction of a second spread evenly after the last restart was seen, "
        "once the status says it runs";
    add({"crash_to_restart_p50_ms", "kill -9 → new process, median (" + kills + " kills)", median(latency),
         "ms", std::nullopt, latency, method});
    add({"crash_to_restart_p99_ms", "kill -9 → new process, p99", percentile(latency, 99), "ms", std::nullopt,
         latency, method});
    stop_all();
}

void PeerBench::cold_starts() {
    std::vector<int> counts = m_options.unit_counts;
    counts.insert(counts.begin(), std::min(10, counts.front()));  // the warm-up: untimed
    for (size_t c = 0; c < counts.size(); ++c) {
        const int count = counts[c];
        const bool warmup = c == 0;
        const int runs = warmup ? 1 : m_options.bringup_runs;
        const std::vector<std::string> services = numbered("svc", count);
        std::vector<double> running, started, down;
        for (int run = 0; run < runs; ++run) {
            const Started times = start_and_wait(services);
            running.push_back(times.running_s);
            started.push_back(times.started_s);
            down.push_back(stop_all());
            pause_for(std::chrono::milliseconds(200));
        }
        if (warmup) continue;
        const std::string n = thousands(count);
        const std::string id = "bring_up_" + std::to_string(count);
        const std::string of_runs = runs > 1 ? ", median of " + std::to_string(runs) : "";
        add({id + "_s", "cold start of " + n + " services" + of_runs, median(running), "s", std::nullopt,
             running,
             "the " + std::to_string(count) +
                 " services configured in an earlier second of the wall clock, from the fork of the "
                 "supervisor "
                 "until its status tool says every one runs (polled every 10 ms after each answer)"});
        if (started != running)
            add({id + "_started_s", "  until every process was started", median(started), "s", std::nullopt,
                 started,
                 "the same, until the status tool shows a process for every one, running or still starting"});
        add({"stop_" + std::to_string(count) + "_s", "  stop them (the supervisor's stop signal)" + of_runs,
             median(down), "s", std::nullopt, down,
             "until the supervisor has exited and its cgroup is empty"});
    }
    char poll[96];
    std::snprintf(poll, sizeof poll, "%.1f ms (median)", median(m_poll_ms));
    m_report.notes.push_back(m_peer.name() + ": cold start: each status poll took " + std::string(poll) +
                             "; a start is timed to the return of the poll that saw every service run");
}

void PeerBench::at_rest() {
    const int count = m_options.rest_units;
    start_and_wait(numbered("rest", count));

    // 1. Memory half a second later: every process of the peer's cgroup but the services' own.
    pause_for(std::chrono::milliseconds(500));
    std::vector<pid_t> tree;
    for (pid_t pid : cgroup_pids(m_sandbox.procs_file()))
        if (process_name(pid) != kMainName) tree.push_back(pid);
    uint64_t total_pss = 0;
    for (pid_t pid : tree) total_pss += memory_of(pid).pss_kib;
    const MemoryUse top = memory_of(m_sandbox.supervisor());

    // 2. Wake-ups from 2 s after the start, over --idle-seconds.
    pause_for(std::chrono::milliseconds(1500));
    const std::vector<pid_t> top_only = {m_sandbox.supervisor()};
    const std::vector<int64_t> before = context_switches(tree), top_before = context_switches(top_only);
    const Clock::time_point start = Clock::now();
    wait_until([] { return false; }, m_options.idle_seconds, std::chrono::milliseconds(100));
    const double window = milliseconds_between(start, Clock::now()) / 1000;
    const std::vector<int64_t> after = context_switches(tree), top_after = context_switches(top_only);
    stop_all();

    const std::string n = thousands(count);
    const std::string program = m_peer.supervisor_argv(m_sandbox.dir()).front();
    const std::string top_name = program.substr(program.rfind('/') + 1);
    const auto mb = [](uint64_t kib) { return static_cast<double>(kib) * 1024.0 / 1e6; };
    add({"rest_total_pss_mb",
         "PSS of " + m_peer.tree_label(count) + ", " + n + " services at rest",
         mb(total_pss),
         "MB",
         std::nullopt,
         {},
         "0.5 s after every service runs: sum of smaps_rollup Pss of every process in the peer's cgroup but "
         "the services' /bin/sleep (" +
             std::to_string(tree.size()) + " processes)"});
    add({"rest_daemon_pss_mb",
         "  " + top_name + " alone",
         mb(top.pss_kib),
         "MB",
         std::nullopt,
         {},
         "/proc/PID/smaps_rollup Pss of the supervisor at the same moment"});
    char method[256];
    std::snprintf(method, sizeof method,
                  "voluntary + nonvoluntary context switches of every thread (/proc/PID/task/*/status) over "
                  "%.1f s, from 2 s after every service runs",
                  window);
    const auto all_wakeups = static_cast<double>(switches_between(before, after));
    const auto top_wakeups = static_cast<double>(switches_between(top_before, top_after));
    const std::string seconds = std::to_string(m_options.idle_seconds);
    add({"idle_wakeups_total",
         "wake-ups in " + seconds + " s at rest: " + m_peer.tree_label(count),
         all_wakeups,
         "",
         std::nullopt,
         {all_wakeups},
         method});
    add({"idle_wakeups_daemon",
         "  " + top_name + " alone",
         top_wakeups,
         "",
         std::nullopt,
         {top_wakeups},
         method});
}

const char* const kUsage =
    "usage: peer_bench --peer runit|supervisord [options]   (as root)\n"
    "  --units LIST          services started at once, cold (default 100,1000)\n"
    "  --bringup-runs N      cold starts timed per count (default 3)\n"
    "  --kills N             kills timed (default 20)\n"
    "  --status-runs N       status commands timed (default 200)\n"
    "  --warmup N            untimed rounds before kills and status runs (default 5; one cold start of 10)\n"
    "  --rest-units N        services running at rest (default 100)\n"
    "  --idle-seconds N      how long wake-ups are counted at rest (default 30)\n"
    "  --kill-spacing-ms N   pause after a restart before the next kill (default 1200)\n"
    "  --poll-us N           polling interval while waiting for a new process, in µs (default 200)\n"
    "  --json PATH           also write the figures as JSON to PATH\n";

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (i + 1 >= argc) throw UsageError("'" + flag + "' needs a value, or is unknown");
        const std::string value = argv[++i];
        if (flag == "--peer") {
            o.peer = value;
        } else if (flag == "--units") {
            o.unit_counts.clear();
            for (const std::string& n : split_list(value)) o.unit_counts.push_back(flag_number(flag, n));
            std::sort(o.unit_counts.begin(), o.unit_counts.end());
        } else if (flag == "--bringup-runs") {
            o.bringup_runs = flag_number(flag, value);
        } else if (flag == "--kills") {
            o.kills = flag_number(flag, value);
        } else if (flag == "--status-runs") {
            o.status_runs = flag_number(flag, value);
        } else if (flag == "--warmup") {
            o.warmup = flag_number(flag, value, 0);
        } else if (flag == "--rest-units") {
            o.rest_units = flag_number(flag, value);
        } else if (flag == "--idle-seconds") {
            o.idle_seconds = flag_number(flag, value);
        } else if (flag == "--kill-spacing-ms") {
            o.kill_spacing = std::chrono::milliseconds(flag_number(flag, value, 0));
        } else if (flag == "--poll-us") {
            o.poll = std::chrono::microseconds(flag_number(flag, value));
        } else if (flag == "--json") {
            o.json_path = value;
        } else {
            throw UsageError("unknown option '" + flag + "'");
        }
    }
    if (o.peer.empty()) throw UsageError("which peer? --peer runit or --peer supervisord");
    if (o.peer != "runit" && o.peer != "supervisord") throw UsageError("unknown peer '" + o.peer + "'");
    if (o.unit_counts.empty()) throw UsageError("nothing to measure");
    return o;
}

void describe_run(Report& report, const Peer& peer, const PeerSandbox& sandbox) {
    describe_machine_into(report);
    report.machine.emplace_back("peer", peer.describe());
    report.machine.emplace_back("folder", sandbox.dir() + " (" + filesystem_type(sandbox.dir()) + ")");
    const std::string procs = sandbox.procs_file();
    report.machine.emplace_back("cgroup", procs.substr(0, procs.rfind('/')));
    report.machine.emplace_back("load at start", load_average() + " (1-minute average)");
}

}  // namespace
}  // namespace gitvisor::bench

int main(int argc, char** argv) {
    using namespace gitvisor::bench;
    Options options;
    try {
        options = parse_options(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "peer_bench: error: %s\n%s", e.what(), kUsage);
        return 2;
    }
    if (::geteuid() != 0) {
        std::fprintf(stderr, "peer_bench: error: run it as root: the peer runs in a cgroup of its own\n");
        return 2;
    }
    const std::unique_ptr<Peer> peer = options.peer == "runit" ? make_runit() : make_supervisord();
    for (const std::string& program : peer->programs()) {
        if (::access(program.c_str(), X_OK) == 0) continue;
        std::fprintf(
            stderr,
            "peer_bench: error: cannot run '%s': install %s's Debian package (bench/run --peers does)\n",
            program.c_str(), peer->name().c_str());
        return 2;
    }
    const int most = std::max(options.unit_counts.back(), options.rest_units);
    if (peer->max_services() > 0 && most > peer->max_services()) {
        std::fprintf(stderr, "peer_bench: error: %s supervises at most %d services, not %d\n",
                     peer->name().c_str(), peer->max_services(), most);
        return 2;
    }
    install_interrupt_handlers();
    std::setvbuf(stdout, nullptr, _IOLBF, 0);

    Report report;
    report.title = "gitvisor's workloads run by " + peer->name();
    report.cleaned = peer->name() + " stopped; no process, cgroup or folder of this run is left";
    int status = 0;
    std::optional<PeerSandbox> sandbox;
    try {
        sandbox.emplace(peer->name());
        describe_run(report, *peer, *sandbox);
        std::fprintf(stderr, "peer_bench: measuring %s...\n", peer->name().c_str());
        PeerBench bench(options, *peer, *sandbox, report);
        bench.status_and_crash();
        bench.cold_starts();
        bench.at_rest();
        report.completed = true;
    } catch (const Interrupted&) {
        std::fprintf(stderr, "peer_bench: interrupted; cleaning up\n");
        status = 130;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "peer_bench: error: %s\n", e.what());
        if (sandbox)
            std::fprintf(stderr, "%s's log ends with:\n%s\n", peer->name().c_str(),
                         sandbox->log_tail().c_str());
        status = 1;
    }
    for (const std::string& caveat : peer->caveats()) report.notes.push_back(peer->name() + ": " + caveat);
    if (sandbox) report.leftovers = sandbox->clean_up();
    return finish_report(report, options.json_path, "peer_bench", status);
}
