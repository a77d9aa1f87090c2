#pragma once
// Runs the real gitvisord on a real repository in a temporary directory, and cleans up every process,
// cgroup and file it made, also when a test fails.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <thread>

#include "../cli/cli_support.h"

namespace gitvisor::testing {

inline std::string gitvisord_binary() { return std::string(GITVISOR_BINARY_DIR) + "/src/daemon/gitvisord"; }
inline std::string exec_binary() { return std::string(GITVISOR_BINARY_DIR) + "/src/exec/gitvisor-exec"; }

// Polls `done` every 10 ms until it holds or `seconds` pass; a bounded wait, not a timing assertion.
inline bool eventually(const std::function<bool()>& done, double seconds = 10) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
}

inline bool process_alive(pid_t pid) {
    if (pid <= 0 || kill(pid, 0) != 0) return false;
    // A zombie left to a slow host init counts as gone (STACK.md).
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

class DaemonFixture {
public:
    DaemonFixture() : m_cgroup_parent("gitvisor-test-" + std::to_string(getpid()) + "-" + std::to_string(++counter())) {
        repo = (dir / "units").string();
        const CommandResult init = run(shell_quote(gitvisor_binary()) + " init units", dir.path());
        if (init.exit_code != 0) throw std::runtime_error("gitvisor init failed: " + init.err);
    }

    ~DaemonFixture() {
        stop_daemon(SIGTERM);
        // A REQUIRE that failed is on its way out: what the daemon said tells why.
        if (std::uncaught_exceptions() > 0)
            std::fprintf(stderr, "--- gitvisord.log of the failed test:\n%s---\n",
                         slurp(dir / "gitvisord.log").c_str());
        // Whatever is left (a test that failed half-way): every gitvisor-exec of this directory, and its cgroups.
        for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
            const std::string name = entry.path().filename().string();
            if (name.find_first_not_of("0123456789") != std::string::npos) continue;
            std::string cmdline = slurp(entry.path() / "cmdline");
            if (cmdline.find(dir.path().string()) != std::string::npos) kill(std::stoi(name), SIGKILL);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        remove_cgroups();
    }

    void start_daemon(const std::string& extra = "") {
        launch_daemon("--repo " + shell_quote(repo) + " --state-dir " +
                      shell_quote((dir / "state").string()) + " --run-dir " +
                      shell_quote((dir / "run").string()) + " " + standard_flags() + " " + extra);
    }

    // The flags every test daemon gets besides its paths: this build's gitvisor-exec, a cgroup folder of its
    // own, and units stopped when it exits.
    std::string standard_flags() const {
        return "--exec-path " + shell_quote(exec_binary()) + " --cgroup-parent " + m_cgroup_parent +
               " --foreground --stop-units-on-exit";
    }

    // Runs gitvisord with exactly `args`, behind `prefix` (e.g. setpriv to run it as another user), logging
    // to gitvisord.log, and waits until it answers on <dir>/run/control.sock.
    void launch_daemon(const std::string& args, const std::string& prefix = "") {
        m_daemon = fork();
        if (m_daemon == 0) {
            const std::string log = (dir / "gitvisord.log").string();
            freopen(log.c_str(), "a", stderr);
            const std::string cmd = prefix + " " + shell_quote(gitvisord_binary()) + " " + args;
            execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), nullptr);
            _exit(127);
        }
        if (!eventually([&] { return cli("status").exit_code == 0; }, 20))
            throw std::runtime_error("gitvisord did not answer: " + slurp(dir / "gitvisord.log"));
    }

    // SIGKILL leaves the units running (the point of gitvisor-exec); SIGTERM with --stop-units-on-exit stops them.
    void stop_daemon(int signal) {
        if (m_daemon <= 0) return;
        kill(m_daemon, signal);
        int status = 0;
        for (int i = 0; i < 3000 && waitpid(m_daemon, &status, WNOHANG) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (waitpid(m_daemon, &status, WNOHANG) == 0) {
            kill(m_daemon, SIGKILL);
            waitpid(m_daemon, &status, 0);
        }
        m_daemon = 0;
    }

    pid_t daemon_pid() const { return m_daemon; }

    void signal_daemon(int signal) const {
        if (m_daemon > 0) kill(m_daemon, signal);
    }

    // Waits up to `seconds` for gitvisord to exit: its exit status, 128+N for a signal, -1 when it still runs.
    int wait_daemon_exit(double seconds) {
        if (m_daemon <= 0) return -1;
        int status = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (waitpid(m_daemon, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) return -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        m_daemon = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    CommandResult cli(const std::string& args) const {
        return run(shell_quote(gitvisor_binary()) + " --socket " + shell_quote((dir / "run/control.sock").string()) +
                       " " + args,
                   dir.path());
    }

    Poco::JSON::Object::Ptr status_json(const std::string& unit) const {
        const CommandResult r = cli("--json status " + unit);
        if (r.out.empty()) return nullptr;
        Poco::JSON::Parser parser;
        return parser.parse(r.out).extract<Poco::JSON::Object::Ptr>();
    }

    std::string state(const std::string& unit) const {
        auto s = status_json(unit);
        return s ? s->getValue<std::string>("state") + "/" + s->getValue<std::string>("sub_state") : "none";
    }

    pid_t main_pid(const std::string& unit) const {
        auto s = status_json(unit);
        return s ? static_cast<pid_t>(s->getValue<int64_t>("main_pid")) : 0;
    }

    // Whether the unit runs a main process other than `old`. One reading: on its way, a restart shows the old
    // pid and then 0, which two readings could take for a new pid.
    bool restarted(const std::string& unit, pid_t old) const {
        const pid_t now = main_pid(unit);
        return now > 0 && now != old;
    }

    void write_unit(const std::string& name, const std::string& text) const { dir.write("units/" + name, text); }

    void commit(const std::string& message) const {
        const CommandResult r = run(git() + " add -A && " + git() + " commit -qm " + shell_quote(message), repo);
        if (r.exit_code != 0) throw std::runtime_error("git commit failed: " + r.err);
    }

    // The number of deploys recorded, to wait for the next one.
    size_t deployments() const {
        const CommandResult r = cli("--json history -n 1000");
        if (r.exit_code != 0) return 0;
        Poco::JSON::Parser parser;
        return parser.parse(r.out).extract<Poco::JSON::Array::Ptr>()->size();
    }

    std::string cgroup_parent() const { return m_cgroup_parent; }

    // Where gitvisord made this fixture's cgroup folder: under its own cgroup (the test's, as its parent) in
    // every hierarchy mounted under /sys/fs/cgroup (cgroup v2, or each v1 controller and the hybrid unified
    // one).
    std::vector<std::filesystem::path> cgroup_parents() const {
        std::vector<std::filesystem::path> roots = {"/sys/fs/cgroup"};
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator("/sys/fs/cgroup", ec))
            if (entry.is_directory(ec)) roots.push_back(entry.path());
        std::vector<std::filesystem::path> out;
        std::istringstream own(slurp("/proc/self/cgroup"));
        for (std::string line; std::getline(own, line);) {
            const std::string path = line.substr(line.find(':', line.find(':') + 1) + 1);
            for (const auto& root : roots) {
                const std::filesystem::path candidate = root.string() + path + "/" + m_cgroup_parent;
                if (std::filesystem::is_directory(candidate, ec)) out.push_back(candidate);
            }
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

    // The commit the watched branch points at, as git sees it (in a repository owned by anyone).
    std::string tip() const {
        const CommandResult r = run(git() + " -c safe.directory='*' rev-parse refs/heads/main", repo);
        return r.out.substr(0, r.out.find('\n'));
    }

    // `gitvisor --json ARGS` parsed; null when the output is not JSON.
    Poco::Dynamic::Var cli_json(const std::string& args) const {
        const CommandResult r = cli("--json " + args);
        try {
            Poco::JSON::Parser parser;
            return parser.parse(r.out);
        } catch (const std::exception&) {
            return {};
        }
    }

    TempDir dir;
    std::string repo;

private:
    static int& counter() {
        static int n = 0;
        return n;
    }

    // The last killed processes leave their cgroups a moment after they are signalled: retry for a while.
    void remove_cgroups() const {
        for (int attempt = 0; attempt < 100; ++attempt) {
            bool left = false;
            for (const auto& parent : cgroup_parents()) {
                std::error_code ec;
                std::vector<std::filesystem::path> units;
                for (const auto& sub : std::filesystem::directory_iterator(parent, ec))
                    if (sub.is_directory(ec)) units.push_back(sub.path());
                for (const auto& u : units) left |= rmdir(u.c_str()) != 0 && errno != ENOENT;
                left |= rmdir(parent.c_str()) != 0 && errno != ENOENT;
            }
            if (!left) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    std::string m_cgroup_parent;
    pid_t m_daemon = 0;
};

}  // namespace gitvisor::testing
