#include "peer_sandbox.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "daemon_bench_probe.h"

namespace gitvisor::bench {
namespace {

// The cgroup2 mount when there is one (a pure v2 host, or the "unified" folder of a hybrid one), else
// the first cgroup v1 hierarchy: any hierarchy lists every process of the cgroup.
std::string cgroup_root() {
    std::istringstream mounts(read_file("/proc/self/mounts"));
    std::string v1;
    for (std::string line; std::getline(mounts, line);) {
        std::istringstream fields(line);
        std::string device, where, type;
        fields >> device >> where >> type;
        if (type == "cgroup2") return where;
        if (type == "cgroup" && v1.empty()) v1 = where;
    }
    if (v1.empty()) throw std::runtime_error("no cgroup hierarchy is mounted");
    return v1;
}

// Reaps every child that has exited (the supervisor, or what it left behind: we are a subreaper).
// Returns true when `watched` was among them.
bool reap_exited(pid_t watched) {
    bool seen = false;
    for (pid_t pid; (pid = ::waitpid(-1, nullptr, WNOHANG)) > 0;)
        if (pid == watched) seen = true;
    return seen;
}

// Kills every process of the cgroup until none is left (at most 5 s); the folders go after. What is left.
std::vector<std::string> sweep(const std::string& cgroup, const std::string& dir, bool reap) {
    std::vector<std::string> problems;
    const std::string procs = cgroup + "/cgroup.procs";
    std::vector<pid_t> left;
    for (int round = 0; round < 50; ++round) {
        if (reap) reap_exited(0);
        left = cgroup_pids(procs);
        if (left.empty()) break;
        for (pid_t pid : left) ::kill(pid, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (pid_t pid : left)
        problems.push_back("process " + std::to_string(pid) + " (" + process_cmdline(pid) + ")");
    for (int round = 0; round < 50 && ::access(cgroup.c_str(), F_OK) == 0; ++round) {
        if (::rmdir(cgroup.c_str()) == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (::access(cgroup.c_str(), F_OK) == 0) problems.push_back("cgroup " + cgroup);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (std::filesystem::exists(dir, ec)) problems.push_back("folder " + dir);
    return problems;
}

}  // namespace

PeerSandbox::PeerSandbox(const std::string& peer) {
    std::string pattern =
        std::filesystem::temp_directory_path().string() + "/gitvisor-bench-" + peer + "-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error("cannot create a folder for " + peer + ": " + std::strerror(errno));
    m_dir = pattern;
    try {
        m_cgroup = cgroup_root() + "/gitvisor-bench-" + peer + "-" + std::to_string(::getpid());
        if (::mkdir(m_cgroup.c_str(), 0755) != 0)
            throw std::runtime_error("cannot create the cgroup '" + m_cgroup + "': " + std::strerror(errno));
        ::prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL);
        start_guard();
    } catch (...) {
        clean_up();
        throw;
    }
}

PeerSandbox::~PeerSandbox() { clean_up(); }

void PeerSandbox::start_guard() {
    m_guard.start([this] { sweep(m_cgroup, m_dir, false); });
}

void PeerSandbox::start(const std::vector<std::string>& argv, int stop_signal) {
    if (m_supervisor > 0) throw std::runtime_error("a supervisor runs already in " + m_dir);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const std::string log = m_dir + "/supervisor.log";
    const std::string procs = procs_file();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("cannot fork: ") + std::strerror(errno));
    if (pid == 0) {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, stop_signal);  // peer_bench killed outright: the supervisor still stops
        if (::getppid() != parent) ::_exit(127);
        const int cg = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
        if (cg < 0 || ::write(cg, "0\n", 2) != 2) ::_exit(126);
        ::close(cg);
        // As from a shell: default dispositions (SIGPIPE is ignored here) and an empty mask.
        for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        const int null_fd = ::open("/dev/null", O_RDWR);
        const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(null_fd, STDIN_FILENO);
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    m_supervisor = pid;
    m_stop_signal = stop_signal;
}

bool PeerSandbox::supervisor_running() {
    if (m_supervisor <= 0) return false;
    int status = 0;
    if (::waitpid(m_supervisor, &status, WNOHANG) == m_supervisor) m_supervisor = 0;
    return m_supervisor > 0;
}

bool PeerSandbox::stop(double seconds) {
    if (m_supervisor > 0) ::kill(m_supervisor, m_stop_signal);
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline) {
        if (reap_exited(m_supervisor)) m_supervisor = 0;
        if (m_supervisor == 0 && cgroup_pids(procs_file()).empty()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (m_supervisor > 0) {
        ::kill(m_supervisor, SIGKILL);
        while (::waitpid(m_supervisor, nullptr, 0) < 0 && errno == EINTR) {
        }
        m_supervisor = 0;
    }
    for (int round = 0; round < 100; ++round) {
        reap_exited(0);
        const std::vector<pid_t> left = cgroup_pids(procs_file());
        if (left.empty()) break;
        for (pid_t pid : left) ::kill(pid, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

std::vector<std::string> PeerSandbox::clean_up() {
    if (m_cleaned) return {};
    m_cleaned = true;
    std::vector<std::string> problems;
    if (!m_cgroup.empty() && ::access(m_cgroup.c_str(), F_OK) == 0) {
        stop(120);
        problems = sweep(m_cgroup, m_dir, true);
    } else {
        std::error_code ec;
        std::filesystem::remove_all(m_dir, ec);
    }
    m_guard.done();
    return problems;
}

std::string PeerSandbox::log_tail(size_t lines) const {
    const std::string text = read_file(m_dir + "/supervisor.log");
    size_t start = text.size();
    for (size_t n = 0; start > 0 && n <= lines; --start)
        if (text[start - 1] == '\n') ++n;
    return text.substr(start == 0 ? 0 : start + 1);
}

}  // namespace gitvisor::bench
