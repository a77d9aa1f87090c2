// Drives the real gitvisord, gitvisor-exec and gitvisor, as root, in temporary folders, and prints one table
// of figures against their targets with the machine they were measured on. bench/README.md says how each
// figure is measured. Nothing outlives a run: see daemon_bench_session.h.
//
// Usage: daemon_bench [--figures LIST] [--units LIST] [--commits N] [--kills N] [--status-runs N]
//                     [--bringup-runs N] [--log-lines N] [--rollbacks N] [--repo-units LIST]
//                     [--big-commits N] [--rest-units N] [--idle-seconds N] [--warmup N] [--poll-us N]
//                     [--run-base DIR] [--json PATH]
//                     [--bin-dir DIR] [--gitvisord PATH] [--gitvisor-exec PATH] [--gitvisor PATH]
// Exit status: 0 when every selected figure was measured (PASS or FAIL), 1 on an error, 2 on a usage
// error, 130 when interrupted.

#include "daemon_bench.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "common/json_reader.h"

namespace gitvisor::bench {
namespace {

constexpr const char* kRestartUnit = "bench-restart.service";
constexpr const char* kCrashUnit = "bench-crash.service";
constexpr const char* kStatusUnit = "bench-status.service";

std::string restart_unit(int round) {
    const std::string head = "[Unit]\nDescription=daemon_bench: restarted by every commit\n\n[Service]\n";
    return head + "Environment=BENCH_ROUND=" + std::to_string(round) + "\nExecStart=/bin/sleep infinity\n";
}

const char* const kCrashUnitText =
    "[Unit]\nDescription=daemon_bench: killed and restarted\nStartLimitIntervalSec=0\n\n"
    "[Service]\nExecStart=/bin/sleep infinity\nRestart=always\nRestartSec=0\n";
const char* const kPlainUnitText =
    "[Unit]\nDescription=daemon_bench: a trivial unit\n\n[Service]\nExecStart=/bin/sleep infinity\n";

}  // namespace

std::string thousands(int n) {
    std::string digits = std::to_string(n);
    for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3)
        digits.insert(static_cast<size_t>(at), ",");
    return digits;
}

double median(const std::vector<double>& samples) { return percentile(samples, 50); }

// Waits until the newest deployment is of `commit` and finished; its duration as gitvisord recorded it (ms).
double Bench::wait_deployed(const std::string& commit, double seconds) {
    double duration = 0;
    std::string last;
    const bool done = wait_until(
        [&] {
            if (m_session.cli({"--json", "history", "-n", "1"}, &last) != 0) return false;
            const auto json = gitvisor::parse_json(last);
            if (!json || !json->is_array() || json->items().empty()) return false;
            const gitvisor::JsonValue& d = json->items().front();
            const gitvisor::JsonValue* id = d.find("commit");
            const gitvisor::JsonValue* result = d.find("result");
            if (!id || !result || id->as_string() != commit || result->as_string() == "in-progress")
                return false;
            if (result->as_string() != "applied")
                throw std::runtime_error("deploy of " + commit.substr(0, 7) + " " + result->as_string() +
                                         ": " + last);
            if (const gitvisor::JsonValue* ms = d.find("duration_ms")) duration = ms->as_double();
            return true;
        },
        seconds, std::chrono::milliseconds(20));  // each poll is a CLI run: not too often
    if (!done) throw std::runtime_error("the deploy of " + commit.substr(0, 7) + " did not finish: " + last);
    return duration;
}

// Waits until every unit is active (`present`), or until every unit's run folder is gone (not `present`).
// Units are checked in order from the first not yet seen, so a poll reads few files.
void Bench::wait_units(const std::vector<std::string>& units, bool present, double seconds) {
    size_t next = 0;
    const bool done = wait_until(
        [&] {
            for (; next < units.size(); ++next) {
                if (!present) {
                    if (::access(m_session.unit_dir(units[next]).c_str(), F_OK) == 0) return false;
                    continue;
                }
                const UnitStatus s = read_unit_status(m_session.status_file(units[next]));
                if (s.state == "failed") throw std::runtime_error(units[next] + " failed to start");
                if (s.state != "active") return false;
            }
            return true;
        },
        seconds, std::chrono::milliseconds(1));
    if (!done)
        throw std::runtime_error(units[next] + (present ? " is not active" : " is not gone") + " after " +
                                 std::to_string(static_cast<int>(seconds)) + " s");
}

std::string Bench::procs_file(const std::string& unit) const {
    const std::string procs = unit_procs_file(m_session.spec_file(unit));
    if (procs.empty()) throw std::runtime_error(unit + " has no cgroup: gitvisord found no usable cgroups");
    return procs;
}

// The unit's main process (running /bin/sleep), other than `other_than`; 0 when there is none.
pid_t Bench::main_process(const std::string& procs, pid_t other_than) const {
    for (pid_t pid : cgroup_pids(procs))
        if (pid != other_than && process_name(pid) == kMainName) return pid;
    return 0;
}

bool Bench::new_main_process(const std::string& procs, const std::vector<pid_t>& before, double seconds,
                             Clock::time_point* seen) const {
    return wait_until(
        [&] {
            for (pid_t pid : cgroup_pids(procs)) {
                if (std::find(before.begin(), before.end(), pid) != before.end()) continue;
                if (process_name(pid) != kMainName) continue;
                *seen = Clock::now();
                return true;
            }
            return false;
        },
        seconds, m_options.poll);
}

void Bench::deploy_base_units() {
    m_files[kRestartUnit] = restart_unit(m_round);
    m_files[kCrashUnit] = kCrashUnitText;
    m_files[kStatusUnit] = kPlainUnitText;
    const UnitRepo::Landed landed = commit("bench: base units");
    wait_deployed(landed.commit, 60);
    wait_units({kRestartUnit, kCrashUnit, kStatusUnit}, true, 30);
}

void Bench::status_round_trip() {
    const std::vector<std::string> status = m_session.cli_argv({"status", kStatusUnit});
    const std::vector<std::string> baseline = {"/bin/true"};
    Figure p50{"status_round_trip_p50_ms", "`gitvisor status UNIT` round trip p50", 0, "ms", 2.0, {}, ""};
    std::vector<double> spawn_only;
    for (int i = -m_options.warmup; i < m_options.status_runs; ++i) {
        throw_if_interrupted();
        const Clock::time_point start = Clock::now();
        const int code = run_program(status);
        const Clock::time_point end = Clock::now();
        if (code != 0)
            throw std::runtime_error("gitvisor status " + std::string(kStatusUnit) + " exited " +
                                     std::to_string(code));
        const Clock::time_point base_start = Clock::now();
        run_program(baseline);
        const Clock::time_point base_end = Clock::now();
        if (i < 0) continue;
        p50.samples.push_back(milliseconds_between(start, end));
        spawn_only.push_back(milliseconds_between(base_start, base_end));
    }
    p50.value = median(p50.samples);
    p50.method = "posix_spawn of `gitvisor --socket S status " + std::string(kStatusUnit) +
                 "` (output to /dev/null) until waitpid returns, " + std::to_string(m_options.status_runs) +
                 " runs";
    Figure p99 = p50;
    p99.id = "status_round_trip_p99_ms";
    p99.label = "`gitvisor status UNIT` round trip p99";
    p99.value = percentile(p99.samples, 99);
    p99.target.reset();
    Figure base{"spawn_true_p50_ms",
                "  for scale: spawning /bin/true, p50",
                median(spawn_only),
                "ms",
                std::nullopt,
                spawn_only,
                "the same spawn and wait of /bin/true, interleaved with the status runs"};
    add(p50);
    add(p99);
    add(base);
}

void Bench::commit_to_running() {
    const std::string procs = procs_file(kRestartUnit);
    std::vector<double> latency, ref_update, deploy;
    for (int i = -m_options.warmup; i < m_options.commits; ++i) {
        m_files[kRestartUnit] = restart_unit(++m_round);
        const std::vector<pid_t> before = cgroup_pids(procs);
        const UnitRepo::Landed landed = commit("bench: round " + std::to_string(m_round));
        Clock::time_point seen;
        if (!new_main_process(procs, before, 10, &seen))
            throw std::runtime_error("no new main process of " + std::string(kRestartUnit) +
                                     " 10 s after a commit");
        const double deploy_ms = wait_deployed(landed.commit, 30);
        pause_for(std::chrono::milliseconds(20));  // let the daemon settle before the next commit
        if (i < 0) continue;
        latency.push_back(milliseconds_between(landed.ref_done, seen));
        ref_update.push_back(milliseconds_between(landed.ref_start, landed.ref_done));
        deploy.push_back(deploy_ms);
    }
    const std::string n = std::to_string(m_options.commits);
    const std::string method =
        "libgit2 commit object written first; from the return of the branch update (whose last "
        "step is the rename gitvisord's inotify watch sees) to a new pid in the unit's "
        "cgroup.procs running /bin/sleep, polled every " +
        std::to_string(m_options.poll.count()) + " µs; " + n + " commits";
    add({"commit_to_running_p50_ms", "commit-to-running p50 (" + n + " commits)", median(latency), "ms", 20.0,
         latency, method});
    add({"commit_to_running_p99_ms", "commit-to-running p99 (" + n + " commits)", percentile(latency, 99),
         "ms", std::nullopt, latency, method});
    add({"deploy_recorded_p50_ms", "  for scale: deploy duration recorded by gitvisord, p50", median(deploy),
         "ms", std::nullopt, deploy, "duration_ms of each deployment in `gitvisor --json history`"});
    char took[32];
    std::snprintf(took, sizeof took, "%.3f ms", median(ref_update));
    m_report.notes.push_back(
        "commit-to-running starts when the ref update returns; the update itself (lock file, "
        "reflogs, then the rename) took " +
        std::string(took) + " (p50)");
}

void Bench::crash_to_restart() {
    const std::string procs = procs_file(kCrashUnit);
    std::vector<double> latency;
    for (int i = -m_options.warmup; i < m_options.kills; ++i) {
        pid_t main = 0;
        if (!wait_until([&] { return (main = main_process(procs, 0)) > 0; }, 10, m_options.poll))
            throw std::runtime_error(std::string(kCrashUnit) + " has no main process");
        const Clock::time_point killed = Clock::now();
        ::kill(main, SIGKILL);
        Clock::time_point seen;
        const bool restarted = wait_until(
            [&] {
                if (main_process(procs, main) == 0) return false;
                seen = Clock::now();
                return true;
            },
            10, m_options.poll);
        if (!restarted)
            throw std::runtime_error(std::string(kCrashUnit) + " was not restarted 10 s after kill -9");
        // gitvisor-exec reports the restart to gitvisord, which records it: let that finish.
        wait_units({kCrashUnit}, true, 10);
        pause_for(std::chrono::milliseconds(20));
        if (i >= 0) latency.push_back(milliseconds_between(killed, seen));
    }
    const std::string method =
        "kill(SIGKILL) of the main process to a new pid in the unit's cgroup.procs running /bin/sleep, "
        "polled "
        "every " +
        std::to_string(m_options.poll.count()) + " µs";
    add({"crash_to_restart_p50_ms",
         "crash-to-restart, RestartSec=0, median (" + std::to_string(m_options.kills) + " kills)",
         median(latency), "ms", 5.0, latency, method});
    add({"crash_to_restart_p99_ms", "crash-to-restart p99", percentile(latency, 99), "ms", std::nullopt,
         latency, method});
}

std::vector<Figure> Bench::measure_memory(int units) {
    pause_for(std::chrono::milliseconds(500));  // thread stacks of the deploy's waves are gone
    const MemoryUse daemon = memory_of(m_session.daemon_pid());
    if (!daemon.ok) throw std::runtime_error("cannot read gitvisord's smaps_rollup");
    std::vector<double> exec_pss, exec_private;
    uint64_t total_pss = daemon.pss_kib;
    for (pid_t pid : all_pids()) {
        if (process_name(pid) != "gitvisor-exec") continue;
        if (process_cmdline(pid).find(m_session.run_dir()) == std::string::npos) continue;
        const MemoryUse use = memory_of(pid);
        if (!use.ok) continue;
        total_pss += use.pss_kib;
        exec_pss.push_back(static_cast<double>(use.pss_kib));
        exec_private.push_back(static_cast<double>(use.private_kib));
    }
    std::vector<Figure> figures;
    const auto mb = [](uint64_t kib) { return static_cast<double>(kib) * 1024.0 / 1e6; };
    const bool at_target_count = units == 1000;
    const std::string n = thousands(units);
    const std::string execs = thousands(static_cast<int>(exec_pss.size()));
    figures.push_back({"daemon_rss_mb",
                       "gitvisord RSS with " + n + " units",
                       mb(daemon.rss_kib),
                       "MB",
                       std::nullopt,
                       {},
                       "/proc/PID/smaps_rollup Rss"});
    figures.push_back({"daemon_pss_mb",
                       "gitvisord PSS with " + n + " units",
                       mb(daemon.pss_kib),
                       "MB",
                       std::nullopt,
                       {},
                       "/proc/PID/smaps_rollup Pss"});
    figures.push_back(
        {"total_pss_mb",
         "PSS of gitvisord + " + execs + " gitvisor-exec",
         mb(total_pss),
         "MB",
         at_target_count ? std::optional<double>(30.0) : std::nullopt,
         {},
         "sum of smaps_rollup Pss of gitvisord and of every gitvisor-exec of this run (the units' own "
         "processes not "
         "counted)"});
    figures.push_back({"exec_private_kib", "  private memory per gitvisor-exec, median", median(exec_private),
                       "KiB", 300.0, exec_private,
                       "smaps_rollup Private_Clean + Private_Dirty (DESIGN.md §1: under ~300 KiB)"});
    figures.push_back({"exec_pss_kib", "  PSS per gitvisor-exec, median", median(exec_pss), "KiB",
                       std::nullopt, exec_pss, "smaps_rollup Pss"});
    if (!at_target_count)
        m_report.notes.push_back("the 30 MB memory target is for 1,000 units; it is not judged at " + n);
    return figures;
}

void Bench::bring_up_and_memory() {
    const bool timed = m_options.figures.count(2) > 0;
    const bool memory = m_options.figures.count(5) > 0;
    const int largest = m_options.unit_counts.back();
    std::vector<int> counts = timed ? m_options.unit_counts : std::vector<int>{largest};
    counts.insert(counts.begin(), std::min(10, counts.front()));  // the warm-up: untimed
    std::vector<Figure> memory_figures;                           // shown after the bring-up figures
    for (size_t c = 0; c < counts.size(); ++c) {
        const int count = counts[c];
        const bool warmup = c == 0;
        const int runs = warmup || !timed ? 1 : m_options.bringup_runs;
        std::vector<std::string> units;
        char name[64];
        for (int i = 0; i < count; ++i) {
            std::snprintf(name, sizeof name, "bringup-%05d.service", i);
            units.push_back(name);
        }
        const double timeout = 60 + count * 0.2;
        std::vector<double> up, down, deploy;
        for (int run = 0; run < runs; ++run) {
            for (const std::string& u : units) m_files[u] = kPlainUnitText;
            const UnitRepo::Landed added = commit("bench: " + std::to_string(count) + " units");
            wait_units(units, true, timeout);
            const Clock::time_point all_active = Clock::now();
            up.push_back(milliseconds_between(added.ref_done, all_active) / 1000);
            deploy.push_back(wait_deployed(added.commit, timeout) / 1000);
            if (memory && !warmup && count == largest && run + 1 == runs)
                memory_figures = measure_memory(count);

            for (const std::string& u : units) m_files.erase(u);
            const UnitRepo::Landed removed = commit("bench: no more units");
            wait_units(units, false, timeout);
            down.push_back(milliseconds_between(removed.ref_done, Clock::now()) / 1000);
            wait_deployed(removed.commit, timeout);
            pause_for(std::chrono::milliseconds(200));
        }
        if (warmup || !timed) continue;
        const std::string n = thousands(count);
        const std::string of_runs = runs > 1 ? ", median of " + std::to_string(runs) : "";
        add({"bring_up_" + std::to_string(count) + "_s", "bring up " + n + " units at once" + of_runs,
             median(up), "s", count == 1000 ? std::optional<double>(2.0) : std::nullopt, up,
             "one commit adding the units, from the return of the ref update until every status file says "
             "active"});
        add({"bring_up_" + std::to_string(count) + "_deploy_s", "  deploy duration recorded by gitvisord",
             median(deploy), "s", std::nullopt, deploy,
             "duration_ms of the deployment in `gitvisor --json history`"});
        add({"stop_" + std::to_string(count) + "_s", "  stop them (one commit removing them)" + of_runs,
             median(down), "s", std::nullopt, down,
             "from the return of the ref update until every unit's run folder is gone"});
        if (count != 1000)
            m_report.notes.push_back("the 2 s bring-up target is for 1,000 units; it is not judged at " + n);
    }
    for (Figure& f : memory_figures) add(std::move(f));
}

}  // namespace gitvisor::bench

namespace {

using namespace gitvisor::bench;

const char* const kUsage =
    "usage: daemon_bench [options]   (as root)\n"
    "  --figures LIST      which figures, by number or name (default all):\n"
    "                      1 commit, 2 bringup, 3 crash, 4 status, 5 memory, 6 logs, 7 rollback,\n"
    "                      8 bigrepo, 9 health, 10 metrics, 11 rest\n"
    "  --units LIST        unit counts brought up at once (default 100,1000); memory uses the largest\n"
    "  --commits N         commits timed for figure 1 (default 30)\n"
    "  --kills N           kills timed for figure 3 (default 20)\n"
    "  --status-runs N     `gitvisor status` runs timed for figure 4 (default 200)\n"
    "  --bringup-runs N    bring-ups timed per unit count (default 3)\n"
    "  --log-lines N       log lines timed for figure 6 (default 250)\n"
    "  --rollbacks N       rollbacks timed for figure 7 (default 20)\n"
    "  --repo-units LIST   repository sizes for figure 8 (default 100,10000)\n"
    "  --big-commits N     one-unit commits timed per repository size for figure 8 (default 15)\n"
    "  --rest-units N      units running at rest for figure 11 (default 100)\n"
    "  --idle-seconds N    how long figure 11 counts wake-ups (default 30)\n"
    "  --warmup N          untimed rounds before each figure (default 5; one bring-up of 10 units;\n"
    "                      10 log lines per round)\n"
    "  --poll-us N         polling interval while waiting for a process, in µs (default 200)\n"
    "  --run-base DIR      where the run folder goes (default /run or /dev/shm when tmpfs)\n"
    "  --json PATH         also write the figures as JSON to PATH\n"
    "  --bin-dir DIR       the build folder holding src/{daemon,exec,cli} (default: this build's)\n"
    "  --gitvisord PATH, --gitvisor-exec PATH, --gitvisor PATH   each program's path\n";

Options parse_options(int argc, char** argv) {
    Options o;
    std::string bin_dir = GITVISOR_BINARY_DIR;
    std::string gitvisord, exec, cli;
    o.run_base = filesystem_type("/run") == "tmpfs"       ? "/run"
                 : filesystem_type("/dev/shm") == "tmpfs" ? "/dev/shm"
                                                          : "";
    const std::map<std::string, int> names = {{"commit", 1}, {"bringup", 2},  {"crash", 3},    {"status", 4},
                                              {"memory", 5}, {"logs", 6},     {"rollback", 7}, {"bigrepo", 8},
                                              {"health", 9}, {"metrics", 10}, {"rest", 11}};
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (i + 1 >= argc) throw UsageError("'" + flag + "' needs a value, or is unknown");
        const std::string value = argv[++i];
        if (flag == "--figures") {
            o.figures.clear();
            for (const std::string& f : split_list(value)) {
                if (f == "all") {
                    for (int figure = 1; figure <= kFigureCount; ++figure) o.figures.insert(figure);
                } else if (names.count(f)) {
                    o.figures.insert(names.at(f));
                } else if (!f.empty() && f.find_first_not_of("0123456789") == std::string::npos &&
                           std::stoi(f) >= 1 && std::stoi(f) <= kFigureCount) {
                    o.figures.insert(std::stoi(f));
                } else {
                    throw UsageError("unknown figure '" + f + "'");
                }
            }
        } else if (flag == "--units") {
            o.unit_counts.clear();
            for (const std::string& n : split_list(value)) o.unit_counts.push_back(flag_number(flag, n));
            std::sort(o.unit_counts.begin(), o.unit_counts.end());
        } else if (flag == "--commits") {
            o.commits = flag_number(flag, value);
        } else if (flag == "--kills") {
            o.kills = flag_number(flag, value);
        } else if (flag == "--status-runs") {
            o.status_runs = flag_number(flag, value);
        } else if (flag == "--bringup-runs") {
            o.bringup_runs = flag_number(flag, value);
        } else if (flag == "--log-lines") {
            o.log_lines = flag_number(flag, value);
        } else if (flag == "--rollbacks") {
            o.rollbacks = flag_number(flag, value);
        } else if (flag == "--repo-units") {
            o.repo_units.clear();
            for (const std::string& n : split_list(value)) o.repo_units.push_back(flag_number(flag, n));
            std::sort(o.repo_units.begin(), o.repo_units.end());
        } else if (flag == "--big-commits") {
            o.big_commits = flag_number(flag, value);
        } else if (flag == "--rest-units") {
            o.rest_units = flag_number(flag, value);
        } else if (flag == "--idle-seconds") {
            o.idle_seconds = flag_number(flag, value);
        } else if (flag == "--warmup") {
            o.warmup = flag_number(flag, value, 0);
        } else if (flag == "--poll-us") {
            o.poll = std::chrono::microseconds(flag_number(flag, value));
        } else if (flag == "--run-base") {
            o.run_base = value;
        } else if (flag == "--json") {
            o.json_path = value;
        } else if (flag == "--bin-dir") {
            bin_dir = value;
        } else if (flag == "--gitvisord") {
            gitvisord = value;
        } else if (flag == "--gitvisor-exec") {
            exec = value;
        } else if (flag == "--gitvisor") {
            cli = value;
        } else {
            throw UsageError("unknown option '" + flag + "'");
        }
    }
    if (o.figures.empty() || o.unit_counts.empty() || o.repo_units.empty())
        throw UsageError("nothing to measure");
    o.binaries.gitvisord = gitvisord.empty() ? bin_dir + "/src/daemon/gitvisord" : gitvisord;
    o.binaries.exec = exec.empty() ? bin_dir + "/src/exec/gitvisor-exec" : exec;
    o.binaries.cli = cli.empty() ? bin_dir + "/src/cli/gitvisor" : cli;
    for (const std::string& program : {o.binaries.gitvisord, o.binaries.exec, o.binaries.cli})
        if (::access(program.c_str(), X_OK) != 0) throw UsageError("cannot run '" + program + "'");
    return o;
}

void describe_run(Report& report, const Session& session, const Options& options) {
    describe_machine_into(report);
    // gitvisord says at start-up what isolation it uses ("PID namespaces, hybrid cgroup v1, units under
    // ...").
    std::istringstream log(session.daemon_log_tail(50));
    for (std::string line; std::getline(log, line);)
        if (line.find("namespaces") != std::string::npos ||
            line.find("not running as root") != std::string::npos)
            report.machine.emplace_back("gitvisord", line.substr(line.find(' ') + 1));
    report.machine.emplace_back(
        "http", options.http_port
                    ? "--http 127.0.0.1:" + std::to_string(options.http_port) + " (for figure 10)"
                    : "off (its default)");
    report.machine.emplace_back("run folder",
                                session.run_dir() + " (" + filesystem_type(session.run_dir()) + ")");
    report.machine.emplace_back("state folder", session.repo().substr(0, session.repo().rfind('/')) + " (" +
                                                    filesystem_type(session.repo()) + ")");
    report.machine.emplace_back(
        "binaries", options.binaries.gitvisord.substr(0, options.binaries.gitvisord.rfind("/src/")));
    report.machine.emplace_back("load at start", load_average() + " (1-minute average)");
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    try {
        options = parse_options(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "daemon_bench: error: %s\n%s", e.what(), kUsage);
        return 2;
    }
    if (::geteuid() != 0) {
        std::fprintf(stderr,
                     "daemon_bench: error: run it as root: units run in PID namespaces and cgroups\n");
        return 2;
    }
    install_interrupt_handlers();
    std::setvbuf(stdout, nullptr, _IOLBF, 0);

    Report report;
    int status = 0;
    std::optional<Session> session;
    try {
        session.emplace(options.binaries, options.run_base);
        // The HTTP endpoint (off by default) only for figure 10: its server thread wakes up on its own, which
        // figure 11 would count.
        if (options.figures.count(10)) {
            options.http_port = free_tcp_port();
            session->add_daemon_args({"--http", "127.0.0.1:" + std::to_string(options.http_port)});
        }
        session->start_daemon();
        describe_run(report, *session, options);
        std::fprintf(stderr, "daemon_bench: gitvisord runs; measuring...\n");
        UnitRepo repo(session->repo(), "main");
        Bench bench(options, *session, repo, report);
        bench.deploy_base_units();
        if (options.figures.count(4)) bench.status_round_trip();
        if (options.figures.count(1)) bench.commit_to_running();
        if (options.figures.count(3)) bench.crash_to_restart();
        if (options.figures.count(2) || options.figures.count(5)) bench.bring_up_and_memory();
        if (options.figures.count(6)) bench.logs_follow();
        if (options.figures.count(7)) bench.rollback_latency();
        if (options.figures.count(8)) bench.big_repository();
        if (options.figures.count(9)) bench.health_cpu();
        if (options.figures.count(10)) bench.metrics_render();
        if (options.figures.count(11)) bench.at_rest();
        report.completed = true;
    } catch (const Interrupted&) {
        std::fprintf(stderr, "daemon_bench: interrupted; cleaning up\n");
        status = 130;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "daemon_bench: error: %s\n", e.what());
        if (session)
            std::fprintf(stderr, "gitvisord's log ends with:\n%s\n", session->daemon_log_tail().c_str());
        status = 1;
    }
    if (session) report.leftovers = session->clean_up();
    return finish_report(report, options.json_path, "daemon_bench", status);
}
