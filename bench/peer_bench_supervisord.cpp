// supervisord as Debian packages it: one configuration file laid out as Debian's
// /etc/supervisor/supervisord.conf (its paths moved into our folder), one conf.d/NAME.conf per program,
// `supervisorctl` over the UNIX socket to ask. Every setting keeps its default but autorestart=true, the
// counterpart of gitvisor's Restart=always (the default, "unexpected", restarts after a kill -9 too).
// startsecs stays 1: startsecs=0 would call a program running the instant it is forked, giving up the
// check that it survives its start, which is tuning supervisord down (bench/README.md).

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon_bench_session.h"
#include "peer_bench.h"

namespace gitvisor::bench {
namespace {

namespace fs = std::filesystem;

class Supervisord : public Peer {
public:
    std::string name() const override { return "supervisord"; }

    std::string describe() const override {
        return "supervisord " + package_version("supervisor") +
               " (Debian package supervisor): supervisord -n -c DIR/supervisord.conf, supervisorctl over a "
               "UNIX "
               "socket";
    }

    std::vector<std::string> programs() const override {
        return {"/usr/bin/supervisord", "/usr/bin/supervisorctl"};
    }

    int max_services() const override { return 0; }

    void configure(const std::string& dir, const std::vector<std::string>& services) const override {
        fs::remove_all(dir + "/conf.d");
        fs::remove_all(dir + "/log");
        fs::create_directories(dir + "/conf.d");
        fs::create_directories(dir + "/log");
        std::ofstream(conf(dir)) << "; Debian's /etc/supervisor/supervisord.conf, its paths in this folder\n"
                                    "[unix_http_server]\nfile="
                                 << dir << "/supervisor.sock\nchmod=0700\n\n[supervisord]\nlogfile=" << dir
                                 << "/supervisord.log\npidfile=" << dir
                                 << "/supervisord.pid\nchildlogdir=" << dir
                                 << "/log\n\n[rpcinterface:supervisor]\n"
                                    "supervisor.rpcinterface_factory = "
                                    "supervisor.rpcinterface:make_main_rpcinterface\n\n"
                                    "[supervisorctl]\nserverurl=unix://"
                                 << dir << "/supervisor.sock\n\n[include]\nfiles = " << dir
                                 << "/conf.d/*.conf\n";
        for (const std::string& s : services)
            std::ofstream(dir + "/conf.d/" + s + ".conf")
                << "[program:" << s << "]\ncommand=" << kServiceProgram << " infinity\nautorestart=true\n";
    }

    // -n: in the foreground, so that it stays our child (Debian's init script lets it fork away).
    std::vector<std::string> supervisor_argv(const std::string& dir) const override {
        return {"/usr/bin/supervisord", "-n", "-c", conf(dir)};
    }

    // supervisord stops every program (stopsignal TERM, stopwaitsecs 10) and exits on SIGTERM.
    int stop_signal() const override { return SIGTERM; }

    std::vector<std::string> status_argv(const std::string& dir,
                                         const std::vector<std::string>& services) const override {
        std::vector<std::string> argv = {"/usr/bin/supervisorctl", "-c", conf(dir), "status"};
        argv.insert(argv.end(), services.begin(), services.end());
        return argv;
    }

    // One line per program: "NAME   RUNNING   pid 123, uptime 0:00:04", "NAME   STARTING", ...
    PeerStatus parse_status(const std::string& output) const override {
        PeerStatus status;
        std::istringstream lines(output);
        for (std::string line; std::getline(lines, line);) {
            std::istringstream fields(line);
            std::string program, state;
            fields >> program >> state;
            if (state == "RUNNING") ++status.running;
            if (state == "RUNNING" || state == "STARTING") ++status.started;
        }
        return status;
    }

    pid_t main_pid(const std::string& dir, const std::string& service) const override {
        std::string out;
        run_program({"/usr/bin/supervisorctl", "-c", conf(dir), "pid", service}, &out);
        return static_cast<pid_t>(std::atol(out.c_str()));
    }

    std::vector<std::string> caveats() const override {
        return {
            "supervisord's main loop waits up to 1 s (its poll timeout) between passes, and restarts a "
            "program that died only on a later pass",
            "a program is RUNNING only once it has run startsecs (default 1 s): the cold start includes "
            "that second (\"every process started\" is shown beside it); kills wait for RUNNING",
            "supervisorctl is a Python program: each status is an interpreter start-up and an XML-RPC "
            "call"};
    }

    std::string status_label() const override { return "`supervisorctl status X`"; }
    std::string tree_label(int) const override { return "supervisord"; }

private:
    static std::string conf(const std::string& dir) { return dir + "/supervisord.conf"; }
};

}  // namespace

std::unique_ptr<Peer> make_supervisord() { return std::make_unique<Supervisord>(); }

}  // namespace gitvisor::bench
