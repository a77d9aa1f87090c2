#include "daemon_bench_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "daemon_bench_probe.h"

extern char** environ;

namespace gitvisor::bench {
namespace {

volatile sig_atomic_t g_interrupted = 0;

void on_interrupt(int) { g_interrupted = 1; }

std::string make_temp_dir(const std::string& base) {
    std::string pattern = base + "/gitvisor-bench-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error("cannot create a folder in '" + base + "': " + std::strerror(errno));
    return pattern;
}

std::vector<char*> c_argv(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    return argv;
}

// A process that exists and is not a zombie.
bool running(pid_t pid) {
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const size_t close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

// Waits for our child `pid` for at most `seconds`; true when it was reaped. Not cut short by Ctrl-C:
// this is the clean-up.
bool reap_within(pid_t pid, double seconds) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (true) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace

void install_interrupt_handlers() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);  // 0.2 ms polls, not 0.25
}

void throw_if_interrupted() {
    if (g_interrupted) throw Interrupted();
}

void pause_for(std::chrono::microseconds duration) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(duration.count() / 1'000'000);
    ts.tv_nsec = static_cast<long>(duration.count() % 1'000'000) * 1000;
    ::clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
}

bool wait_until(const std::function<bool()>& done, double seconds, std::chrono::microseconds interval) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (true) {
        throw_if_interrupted();
        if (done()) return true;
        if (Clock::now() >= deadline) return false;
        pause_for(interval);
    }
}

namespace {

// Spawns `args` with stdin and stderr on /dev/null and stdout on `stdout_fd` (/dev/null when -1), default
// signal dispositions and an empty mask, as from a shell. Its pid; throws when it cannot be spawned.
pid_t spawn_program(const std::vector<std::string>& args, int stdout_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    if (stdout_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    } else {
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults, none;
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, sig);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    std::vector<char*> argv = c_argv(args);
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (spawned != 0) throw std::runtime_error("cannot run '" + args[0] + "': " + std::strerror(spawned));
    return pid;
}

int wait_exit_code(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int run_program(const std::vector<std::string>& args, std::string* out) {
    if (!out) return wait_exit_code(spawn_program(args, -1));
    int pipe_fds[2] = {-1, -1};
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot make a pipe");
    pid_t pid = 0;
    try {
        pid = spawn_program(args, pipe_fds[1]);
    } catch (...) {
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        throw;
    }
    ::close(pipe_fds[1]);
    out->clear();
    char buffer[8192];
    while (true) {
        const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out->append(buffer, static_cast<size_t>(n));
    }
    ::close(pipe_fds[0]);
    return wait_exit_code(pid);
}

RunningProgram::RunningProgram(const std::vector<std::string>& args) {
    int pipe_fds[2] = {-1, -1};
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot make a pipe");
    try {
        m_pid = spawn_program(args, pipe_fds[1]);
    } catch (...) {
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        throw;
    }
    ::close(pipe_fds[1]);
    m_fd = pipe_fds[0];
}

RunningProgram::~RunningProgram() {
    ::close(m_fd);
    ::kill(m_pid, SIGTERM);
    if (!reap_within(m_pid, 2)) {
        ::kill(m_pid, SIGKILL);
        reap_within(m_pid, 10);
    }
}

RunningProgram::Output RunningProgram::read_lines(std::chrono::milliseconds timeout) {
    Output output;
    pollfd fd{m_fd, POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
    if (ready < 0 && errno == EINTR) throw_if_interrupted();
    if (ready <= 0) return output;
    char buffer[65536];
    const ssize_t n = ::read(m_fd, buffer, sizeof buffer);
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    output.read_usec = static_cast<int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
    if (n < 0) {
        if (errno == EINTR) throw_if_interrupted();
        return output;
    }
    if (n == 0) {
        output.ended = true;
        return output;
    }
    m_partial.append(buffer, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t end; (end = m_partial.find('\n', start)) != std::string::npos; start = end + 1)
        output.lines.push_back(m_partial.substr(start, end - start));
    m_partial.erase(0, start);
    return output;
}

Session::Session(Binaries binaries, const std::string& run_base)
    : m_binaries(std::move(binaries)), m_cgroup_parent("gitvisor-bench-" + std::to_string(::getpid())) {
    m_dir = make_temp_dir(std::filesystem::temp_directory_path().string());
    try {
        m_run_dir = run_base.empty() ? m_dir + "/run" : make_temp_dir(run_base);
        m_repo = m_dir + "/units";
        start_guard();
        if (run_program({m_binaries.cli, "init", m_repo}) != 0)
            throw std::runtime_error("'" + m_binaries.cli + " init " + m_repo + "' failed");
    } catch (...) {
        clean_up();
        throw;
    }
}

Session::~Session() { clean_up(); }

void Session::start_guard() {
    m_guard.start([this] { sweep(); });
}

std::vector<std::string> Session::cli_argv(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {m_binaries.cli, "--socket", m_run_dir + "/control.sock"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

int Session::cli(const std::vector<std::string>& args, std::string* out) const {
    return run_program(cli_argv(args), out);
}

void Session::start_daemon() {
    std::vector<std::string> args = {
        m_binaries.gitvisord,
        "--repo",
        m_repo,
        "--state-dir",
        m_dir + "/state",
        "--run-dir",
        m_run_dir,
        "--exec-path",
        m_binaries.exec,
        "--cgroup-parent",
        m_cgroup_parent,
        "--config",
        m_dir + "/gitvisord.ini",  // empty: the host's settings file must not apply
        "--foreground",
        "--stop-units-on-exit"};
    args.insert(args.end(), m_extra_args.begin(), m_extra_args.end());
    std::ofstream(m_dir + "/gitvisord.ini") << "# daemon_bench: every setting is a flag\n";
    std::vector<char*> argv = c_argv(args);
    const std::string log = m_dir + "/gitvisord.log";
    const pid_t parent = ::getpid();
    m_daemon = ::fork();
    if (m_daemon < 0) throw std::runtime_error(std::string("cannot fork: ") + std::strerror(errno));
    if (m_daemon == 0) {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG,
                SIGTERM);  // the benchmark killed outright: the daemon still stops its units
        if (::getppid() != parent) ::_exit(127);
        ::signal(SIGPIPE, SIG_DFL);
        const int null_fd = ::open("/dev/null", O_RDWR);
        const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(null_fd, STDIN_FILENO);
        ::dup2(null_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    const bool answered = wait_until(
        [&] {
            int status = 0;
            if (::waitpid(m_daemon, &status, WNOHANG) == m_daemon) {
                m_daemon = 0;
                throw std::runtime_error("gitvisord exited at start-up:\n" + daemon_log_tail());
            }
            return cli({"status"}) == 0;
        },
        30, std::chrono::milliseconds(20));
    if (!answered) throw std::runtime_error("gitvisord did not answer within 30 s:\n" + daemon_log_tail());
}

void Session::stop_daemon() {
    if (m_daemon <= 0) return;
    ::kill(m_daemon, SIGTERM);
    // It stops every unit first, one after the other: allow for a thousand slow ones.
    if (!reap_within(m_daemon, 300)) {
        ::kill(m_daemon, SIGKILL);
        reap_within(m_daemon, 10);
    }
    m_daemon = 0;
}

std::vector<std::string> Session::cgroup_folders() const {
    std::vector<std::string> found;
    std::error_code ec;
    namespace fs = std::filesystem;
    for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        // In cgroup v2 gitvisord may move itself into "<parent>-daemon" to enable controllers.
        if (name == m_cgroup_parent || name == m_cgroup_parent + "-daemon") {
            found.push_back(it->path().string());
            it.disable_recursion_pending();
        }
    }
    return found;
}

std::vector<pid_t> Session::leftover_processes() const {
    std::vector<pid_t> pids;
    const pid_t self = ::getpid();
    for (pid_t pid : all_pids()) {
        if (pid == self || pid == m_guard.pid()) continue;
        const std::string cmdline = process_cmdline(pid);
        if (cmdline.find(m_dir) != std::string::npos ||
            (!m_run_dir.empty() && cmdline.find(m_run_dir) != std::string::npos))
            pids.push_back(pid);
    }
    std::error_code ec;
    for (const std::string& folder : cgroup_folders()) {
        for (auto it = std::filesystem::recursive_directory_iterator(folder, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            if (it->path().filename() != "cgroup.procs") continue;
            for (pid_t pid : cgroup_pids(it->path().string()))
                if (pid != self) pids.push_back(pid);
        }
    }
    return pids;
}

std::vector<std::string> Session::clean_up() {
    if (m_cleaned) return {};
    m_cleaned = true;
    stop_daemon();
    std::vector<std::string> problems = sweep();
    m_guard.done();
    return problems;
}

std::vector<std::string> Session::sweep() const {
    std::vector<std::string> problems;
    // 1. A gitvisord of this run still there (the benchmark was killed): SIGTERM, so it stops its units.
    for (pid_t pid : leftover_processes()) {
        if (process_name(pid) != "gitvisord") continue;
        ::kill(pid, SIGTERM);
        const auto deadline = Clock::now() + std::chrono::seconds(300);
        while (running(pid) && Clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    // 2. Every process still running: a gitvisor-exec is PID 1 of its namespace, so killing it ends
    //    every process of its unit.
    std::vector<pid_t> left;
    for (int round = 0; round < 50; ++round) {
        left = leftover_processes();
        if (left.empty()) break;
        for (pid_t pid : left) ::kill(pid, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (pid_t pid : left)
        problems.push_back("process " + std::to_string(pid) + " (" + process_cmdline(pid) + ")");

    // 3. The cgroups: units first, then the parent, in every hierarchy.
    std::vector<std::string> folders;
    for (int round = 0; round < 50; ++round) {
        folders = cgroup_folders();
        for (const std::string& folder : folders) {
            std::error_code ec;
            for (const auto& unit : std::filesystem::directory_iterator(folder, ec))
                if (unit.is_directory(ec)) ::rmdir(unit.path().c_str());
            ::rmdir(folder.c_str());
        }
        folders = cgroup_folders();
        if (folders.empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (const std::string& folder : folders) problems.push_back("cgroup " + folder);

    // 4. The folders.
    std::error_code ec;
    if (!m_run_dir.empty()) std::filesystem::remove_all(m_run_dir, ec);
    if (!m_dir.empty()) std::filesystem::remove_all(m_dir, ec);
    return problems;
}

std::string Session::daemon_log_tail(size_t lines) const {
    const std::string text = read_file(m_dir + "/gitvisord.log");
    size_t start = text.size();
    for (size_t n = 0; start > 0 && n <= lines; --start)
        if (text[start - 1] == '\n') ++n;
    return text.substr(start == 0 ? 0 : start + 1);
}

}  // namespace gitvisor::bench
