#pragma once
// peer_bench: the workloads of daemon_bench's figures 2, 3, 4 and 11 run against another supervisor from
// its Debian package (runit, supervisord) through its own configuration files and command-line tool, with
// its default settings, so that bench/run can set gitvisor's figures beside theirs (bench/README.md).
//   peer_bench.cpp              options, the workloads, main()
//   peer_bench_runit.cpp        runsvdir, runsv and sv
//   peer_bench_supervisord.cpp  supervisord and supervisorctl
//   peer_sandbox.{h,cpp}        the folder and cgroup a peer runs in, and their clean-up

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace gitvisor::bench {

// Every service the workloads give a peer runs /bin/sleep infinity, as daemon_bench's units do.
constexpr const char* kServiceProgram = "/bin/sleep";

// What a peer's status tool said about a set of services.
struct PeerStatus {
    int running = 0;  // in the peer's own "running" state (runit "run", supervisord RUNNING)
    int started = 0;  // with a process started, whether the peer calls it running yet or not
};

// One supervisor under test: how it is configured, started, stopped and asked about its services.
class Peer {
public:
    virtual ~Peer() = default;

    virtual std::string name() const = 0;  // "runit", "supervisord": figure ids and the table use it
    // "NAME VERSION (Debian package P): how it runs", for the header; bench_table reads NAME from it.
    virtual std::string describe() const = 0;
    // The programs it needs; peer_bench refuses to start when one cannot be run.
    virtual std::vector<std::string> programs() const = 0;
    // The most services it supervises at once (0: no limit of its own).
    virtual int max_services() const = 0;

    // Writes, in `dir`, the configuration of exactly `services`, each running /bin/sleep infinity,
    // replacing any earlier one. Called only while the supervisor is stopped.
    virtual void configure(const std::string& dir, const std::vector<std::string>& services) const = 0;
    // The supervisor's command line, in the foreground, for the configuration in `dir`.
    virtual std::vector<std::string> supervisor_argv(const std::string& dir) const = 0;
    // The signal that asks the supervisor to stop every service and exit.
    virtual int stop_signal() const = 0;

    // The status command for `services` ({} for all of them), as a user types it.
    virtual std::vector<std::string> status_argv(const std::string& dir,
                                                 const std::vector<std::string>& services) const = 0;
    // Reads that command's output.
    virtual PeerStatus parse_status(const std::string& output) const = 0;
    // The pid of a service's main process, as the peer reports it; 0 when it has none.
    virtual pid_t main_pid(const std::string& dir, const std::string& service) const = 0;

    // What the peer does by design that shows in the figures (built-in delays), one line each.
    virtual std::vector<std::string> caveats() const = 0;
    // The label of the status round trip and of the memory figure, e.g. "`sv status X`".
    virtual std::string status_label() const = 0;
    virtual std::string tree_label(int services) const = 0;  // "runsvdir + 100 runsv"
};

std::unique_ptr<Peer> make_runit();
std::unique_ptr<Peer> make_supervisord();

// The version dpkg records for `package`, "" when it is not installed.
std::string package_version(const std::string& package);

}  // namespace gitvisor::bench
