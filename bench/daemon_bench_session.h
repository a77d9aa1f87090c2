#pragma once
// One run of the real gitvisord for daemon_bench, in temporary folders, and the guarantee that nothing
// outlives the benchmark: on every exit path (success, an error, Ctrl-C) the daemon is stopped with
// --stop-units-on-exit, every process left in its cgroups or running its gitvisor-exec is killed, its
// cgroups are removed and so are the folders. Should the benchmark itself be killed outright (SIGKILL), a
// guard process forked at the start sees its pipe close and does the same clean-up. The repository and
// state live in a folder of the temporary directory; the run folder (control sockets, status files) lives
// on tmpfs when one is given, as /run does on a real host.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cleanup_guard.h"

namespace gitvisor::bench {

// Thrown by the waits once SIGINT, SIGTERM or SIGHUP arrived.
struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted") {}
};

// SIGINT, SIGTERM and SIGHUP set a flag that every wait checks (throwing Interrupted); SIGPIPE is ignored.
void install_interrupt_handlers();
void throw_if_interrupted();

// Sleeps `duration` precisely (the process's timer slack is set to 1 ns by install_interrupt_handlers).
void pause_for(std::chrono::microseconds duration);

// Calls `done` every `interval` until it holds (true) or `seconds` pass (false); throws Interrupted.
bool wait_until(const std::function<bool()>& done, double seconds, std::chrono::microseconds interval);

struct Binaries {
    std::string gitvisord;
    std::string exec;  // gitvisor-exec
    std::string cli;   // gitvisor
};

class Session {
public:
    // Makes the folders and the repository (`gitvisor init`); `run_base` is where the run folder goes.
    Session(Binaries binaries, const std::string& run_base);
    ~Session();  // clean_up()
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Starts gitvisord (own process group, so Ctrl-C reaches only the benchmark) and waits until its
    // control socket answers.
    void start_daemon();
    // Flags added to gitvisord's command line by start_daemon() (e.g. --http).
    void add_daemon_args(const std::vector<std::string>& args) { m_extra_args.insert(m_extra_args.end(), args.begin(), args.end()); }
    // Stops gitvisord (SIGTERM; with --stop-units-on-exit it stops every unit first), kills whatever is
    // left, removes the cgroups and the folders. Safe to call more than once. Returns what it could not
    // clean (empty when everything went).
    std::vector<std::string> clean_up();

    // Runs `gitvisor --socket <ours> ARGS...`; its exit code, with its stdout in `out` when given.
    int cli(const std::vector<std::string>& args, std::string* out = nullptr) const;
    // The argv of that command, for callers that spawn it themselves.
    std::vector<std::string> cli_argv(const std::vector<std::string>& args) const;

    const Binaries& binaries() const { return m_binaries; }
    const std::string& repo() const { return m_repo; }
    const std::string& run_dir() const { return m_run_dir; }
    std::string unit_dir(const std::string& unit) const { return m_run_dir + "/units/" + unit; }
    std::string status_file(const std::string& unit) const { return unit_dir(unit) + "/status"; }
    std::string spec_file(const std::string& unit) const { return unit_dir(unit) + "/spec.json"; }
    pid_t daemon_pid() const { return m_daemon; }
    const std::string& cgroup_parent() const { return m_cgroup_parent; }
    // The last lines of gitvisord's log, for error messages.
    std::string daemon_log_tail(size_t lines = 20) const;

private:
    void start_guard();
    // Stops gitvisord, the benchmark's child (SIGTERM, then SIGKILL after 300 s).
    void stop_daemon();
    // Stops any gitvisord of this run (the guard's way: it is not its child), kills what is left, removes
    // the cgroups and the folders. What it could not clean.
    std::vector<std::string> sweep() const;
    std::vector<pid_t> leftover_processes() const;
    std::vector<std::string> cgroup_folders() const;  // our parent folders in every hierarchy

    Binaries m_binaries;
    std::string m_dir;      // repository, state, log
    std::vector<std::string> m_extra_args;
    std::string m_run_dir;  // sockets and status files
    std::string m_repo;
    std::string m_cgroup_parent;
    pid_t m_daemon = 0;
    CleanupGuard m_guard;
    bool m_cleaned = false;
};

// Spawns `argv` (stdin and stderr on /dev/null; stdout captured into `out` when given, else /dev/null)
// and waits for it. Its exit code, 128+N for a signal.
int run_program(const std::vector<std::string>& argv, std::string* out = nullptr);

// A program spawned as run_program does but left running, its stdout on a pipe that the caller reads line
// by line (`gitvisor logs -f`). Destroying it ends it (SIGTERM, then SIGKILL after 2 s) and reaps it, also
// when a figure fails; should that be missed, Session::clean_up kills it, as its argv names the run folder.
class RunningProgram {
public:
    explicit RunningProgram(const std::vector<std::string>& argv);  // throws when it cannot be spawned
    ~RunningProgram();
    RunningProgram(const RunningProgram&) = delete;
    RunningProgram& operator=(const RunningProgram&) = delete;

    struct Output {
        std::vector<std::string> lines;  // complete lines, without their newline
        int64_t read_usec = 0;           // CLOCK_REALTIME (µs since the epoch) when read() returned them
        bool ended = false;              // end of file: the program closed its stdout
    };
    // Waits at most `timeout` for output, then reads what there is once: maybe no complete line yet.
    // Throws Interrupted.
    Output read_lines(std::chrono::milliseconds timeout);

private:
    pid_t m_pid = 0;
    int m_fd = -1;
    std::string m_partial;  // the start of a line whose newline has not arrived
};

}  // namespace gitvisor::bench
