// runit as Debian packages it: one runsvdir watching a service folder, one runsv per service, `sv` to ask.
// The layout is runit's documented one: each service is a folder holding an executable `run` script
// (`exec` of the program), and the folder runsvdir watches holds a symbolic link to it, as /etc/service
// links to /etc/sv on Debian. runsvdir runs as Debian's /etc/runit/2 runs it (`runsvdir -P`), with no
// other setting.

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "daemon_bench_probe.h"
#include "peer_bench.h"

namespace gitvisor::bench {
namespace {

namespace fs = std::filesystem;

class Runit : public Peer {
public:
    std::string name() const override { return "runit"; }

    std::string describe() const override {
        return "runit " + package_version("runit") +
               " (Debian package runit): runsvdir -P DIR, one runsv per "
               "service, sv";
    }

    std::vector<std::string> programs() const override {
        return {"/usr/bin/runsvdir", "/usr/bin/runsv", "/usr/bin/sv"};
    }

    int max_services() const override { return 1000; }

    void configure(const std::string& dir, const std::vector<std::string>& services) const override {
        fs::remove_all(dir + "/sv");  // runsv keeps its state in sv/NAME/supervise: a new run starts clean
        fs::remove_all(dir + "/service");
        fs::create_directories(dir + "/service");
        for (const std::string& s : services) {
            const std::string folder = dir + "/sv/" + s;
            fs::create_directories(folder);
            std::ofstream(folder + "/run") << "#!/bin/sh\nexec " << kServiceProgram << " infinity\n";
            fs::permissions(folder + "/run", fs::perms::owner_all | fs::perms::group_read |
                                                 fs::perms::group_exec | fs::perms::others_read |
                                                 fs::perms::others_exec);
            fs::create_directory_symlink(folder, dir + "/service/" + s);
        }
    }

    std::vector<std::string> supervisor_argv(const std::string& dir) const override {
        return {"/usr/bin/runsvdir", "-P", dir + "/service"};
    }

    // runsvdir(8): on SIGHUP it sends TERM to every runsv, each of which stops its service and exits.
    int stop_signal() const override { return SIGHUP; }

    std::vector<std::string> status_argv(const std::string& dir,
                                         const std::vector<std::string>& services) const override {
        std::vector<std::string> argv = {"/usr/bin/sv", "status"};
        std::vector<std::string> names = services;
        if (names.empty()) {
            std::error_code ec;
            for (const auto& entry : fs::directory_iterator(dir + "/service", ec))
                names.push_back(entry.path().filename().string());
            std::sort(names.begin(), names.end());
        }
        // A path (not a bare name) so that sv looks in our folder rather than /etc/service.
        for (const std::string& s : names) argv.push_back(dir + "/service/" + s);
        return argv;
    }

    // One line per service: "run: DIR: (pid 123) 4s", "down: ...", "warning: ...: unable to open ...".
    PeerStatus parse_status(const std::string& output) const override {
        PeerStatus status;
        std::istringstream lines(output);
        for (std::string line; std::getline(lines, line);)
            if (line.starts_with("run: ")) ++status.running;
        status.started = status.running;
        return status;
    }

    // runsv writes the main process's pid to supervise/pid (empty while the service is down).
    pid_t main_pid(const std::string& dir, const std::string& service) const override {
        return static_cast<pid_t>(std::atol(read_file(dir + "/sv/" + service + "/supervise/pid").c_str()));
    }

    std::vector<std::string> caveats() const override {
        return {
            "runsv restarts a service at once if it ran for 1 s or more, else 1 s later: kills come "
            "1.2 to 2.2 s after a restart, so the figure is the immediate restart",
            "runsvdir does not scan a folder changed in the current second of the wall clock: the cold "
            "start begins in the second after the services were written (as at boot, when they were "
            "written long before), else it takes up to 1 s more; a running runsvdir looks at its folder "
            "every 5 s, so services added to it wait up to 5 s",
            "runsvdir supervises at most 1,000 services (runsvdir(8))"};
    }

    std::string status_label() const override { return "`sv status X`"; }
    std::string tree_label(int services) const override {
        return "runsvdir + " + std::to_string(services) + " runsv";
    }
};

}  // namespace

std::unique_ptr<Peer> make_runit() { return std::make_unique<Runit>(); }

}  // namespace gitvisor::bench
