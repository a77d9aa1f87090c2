#include "daemon/supervise/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "daemon/supervise/atomic_file.h"
#include "daemon/supervise/spec_builder.h"

namespace gitvisor::daemon {
namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string errno_text() { return std::strerror(errno); }

struct SpawnArgs {
    char* const* argv;
    int devnull;
    int control;  // becomes the child's kControlFd, or -1
};

constexpr int kControlFd = 3;

// The child's side of spawn(): it shares gitvisord's memory until execve, so it only resets its own
// signal state, sets up its descriptors and executes.
int spawn_child(void* data) {
    const SpawnArgs* a = static_cast<const SpawnArgs*>(data);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
    if (a->devnull >= 0) {
        dup2(a->devnull, STDIN_FILENO);
        dup2(a->devnull, STDOUT_FILENO);
    }
    int first_closed = kControlFd;
    if (a->control >= 0) {
        if (dup2(a->control, kControlFd) < 0) _exit(127);  // the copy is not close-on-exec
        first_closed = kControlFd + 1;
    }
    syscall(SYS_close_range, first_closed, ~0U, 0);
    execv(a->argv[0], a->argv);
    _exit(127);
}

// Starts `argv` as PID 1 of new PID and mount namespaces when `isolate`, else as a plain child, with
// `control` (if >= 0) as its descriptor kControlFd. The child
// shares gitvisord's memory until it executes (CLONE_VM | CLONE_VFORK, as posix_spawn does): copying the
// page tables of a daemon with many threads and units would cost more than the rest of a start, and take
// the memory map lock every other thread needs.
pid_t spawn(const std::vector<std::string>& args, bool isolate, int control) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    SpawnArgs spawn_args{argv.data(), open("/dev/null", O_RDWR | O_CLOEXEC), control};
    constexpr size_t kStack = 64 * 1024;
    void* stack = mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    pid_t pid = -1;
    if (stack != MAP_FAILED) {
        const int flags = SIGCHLD | CLONE_VM | CLONE_VFORK | (isolate ? (CLONE_NEWPID | CLONE_NEWNS) : 0);
        pid = clone(spawn_child, static_cast<char*>(stack) + kStack, flags, &spawn_args);
        const int saved = errno;
        munmap(stack, kStack);
        errno = saved;
    }
    if (spawn_args.devnull >= 0) close(spawn_args.devnull);
    return pid;
}

bool cmdline_mentions(pid_t pid, const std::string& needle) {
    std::string cmdline = read_text("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    return cmdline.find("gitvisor-exec") != std::string::npos && cmdline.find(needle) != std::string::npos;
}

}  // namespace

std::optional<ExecStatus> parse_exec_status(const std::string& json) {
    try {
        Poco::JSON::Parser parser;
        const auto o = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
        ExecStatus s;
        s.invocation = o->optValue<std::string>("invocation", "");
        s.state = o->optValue<std::string>("state", s.state);
        s.sub_state = o->optValue<std::string>("sub_state", s.sub_state);
        s.result = o->optValue<std::string>("result", s.result);
        s.main_pid = o->optValue<int64_t>("main_pid", 0);
        s.since_usec = o->optValue<int64_t>("since_usec", 0);
        s.restarts = o->optValue<int64_t>("restarts", 0);
        if (o->has("exit_code") && !o->isNull("exit_code")) s.exit_code = o->getValue<int64_t>("exit_code");
        if (o->has("exit_signal") && !o->isNull("exit_signal")) s.exit_signal = o->getValue<int64_t>("exit_signal");
        s.failed_step = o->optValue<std::string>("failed_step", "");
        s.error = o->optValue<std::string>("error", "");
        s.status_text = o->optValue<std::string>("status_text", "");
        return s;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::vector<int64_t> ns_pids(pid_t pid) {
    std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(in, line)) {
        if (!line.starts_with("NSpid:")) continue;
        std::istringstream fields(line.substr(6));
        std::vector<int64_t> out;
        for (int64_t v; fields >> v;) out.push_back(v);
        return out;
    }
    return {};
}

pid_t host_pid_of(pid_t parent, int64_t ns_pid) {
    if (ns_pid <= 0) return 0;
    const std::string p = std::to_string(parent);
    std::istringstream children(read_text("/proc/" + p + "/task/" + p + "/children"));
    for (pid_t child; children >> child;) {
        const std::vector<int64_t> ids = ns_pids(child);
        if (!ids.empty() && ids.back() == ns_pid) return child;
    }
    return 0;
}

Supervisor::Supervisor(Paths paths, CgroupManager cgroups, std::string exec_binary, Listener listener)
    : m_paths(std::move(paths)),
      m_cgroups(std::move(cgroups)),
      m_exec_binary(std::move(exec_binary)),
      m_listener(std::move(listener)),
      m_isolated(geteuid() == 0) {
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    m_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint32_t>(m_wake);  // registration 0
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &ev);
    m_thread = std::thread([this] { loop(); });
}

template <class Done>
bool Supervisor::wait_for_unit(std::unique_lock<std::mutex>& lock, const std::string& unit,
                               std::chrono::steady_clock::time_point deadline, Done done) {
    Waiters& waiters = m_waiters[unit];  // map nodes stay put while others come and go
    ++waiters.count;
    const bool result = waiters.changed.wait_until(lock, deadline, done);
    if (--waiters.count == 0) m_waiters.erase(unit);
    return result;
}

void Supervisor::notify(const std::string& unit) {
    std::lock_guard lock(m_mutex);
    if (auto it = m_waiters.find(unit); it != m_waiters.end()) it->second.changed.notify_all();
}

void Supervisor::notify_all_waiters() {
    std::lock_guard lock(m_mutex);
    for (auto& [unit, waiters] : m_waiters) waiters.changed.notify_all();
}

void Supervisor::interrupt(bool on) {
    {
        std::lock_guard lock(m_mutex);
        m_interrupted = on;
    }
    notify_all_waiters();
}

Supervisor::~Supervisor() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    const uint64_t one = 1;
    (void)!write(m_wake, &one, sizeof one);
    if (m_thread.joinable()) m_thread.join();
    std::lock_guard lock(m_mutex);
    for (auto& [unit, p] : m_units) {
        if (p.pidfd >= 0) close(p.pidfd);
        if (p.socket >= 0) close(p.socket);
    }
    close(m_wake);
    close(m_epoll);
}

int Supervisor::connect_control(const std::string& unit, int attempts) {
    const std::string path = m_paths.exec_socket(unit);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return -1;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    for (int i = 0; i < attempts; ++i) {
        const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
        close(fd);
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return -1;
}

void Supervisor::register_fd(const std::string& unit, int fd) {
    if (++m_registrations == 0) ++m_registrations;  // 0 is m_wake's
    const uint32_t registration = m_registrations;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = (static_cast<uint64_t>(registration) << 32) | static_cast<uint32_t>(fd);
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
    m_fd_owner[fd] = {unit, registration};
}

void Supervisor::watch(const std::string& unit, Process process) {
    std::lock_guard lock(m_mutex);
    for (int fd : {process.pidfd, process.socket})
        if (fd >= 0) register_fd(unit, fd);
    m_units[unit] = std::move(process);
}

Result<pid_t> Supervisor::start(const unitfile::Unit& unit, const CgroupLimits& limits, StartContext context) {
    if (running(unit.name)) return Result<pid_t>::fail("cannot start '" + unit.name + "': it is running");
    std::error_code ec;
    std::filesystem::create_directories(m_paths.unit_dir(unit.name), ec);
    if (ec) return Result<pid_t>::fail("cannot create '" + m_paths.unit_dir(unit.name) + "': " + ec.message());
    UnitCgroup cgroup;
    if (m_cgroups.layout() != CgroupLayout::None) {
        Result<UnitCgroup> made = m_cgroups.create(unit.name, limits);
        if (!made) return Result<pid_t>::fail(made.error());
        cgroup = *made;
    }
    context.cgroup_procs = cgroup.procs_files();
    const std::string spec = build_exec_spec(unit, m_paths, context);
    if (Result<bool> w = write_file_atomically(m_paths.spec_file(unit.name), spec); !w)
        return Result<pid_t>::fail(w.error());
    std::filesystem::remove(m_paths.status_file(unit.name), ec);

    // The first control connection is a socket pair made now, so no start waits for the socket file.
    int pair[2] = {-1, -1};
    std::shared_lock spawning(m_spawning);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        return Result<pid_t>::fail("cannot start gitvisor-exec for '" + unit.name + "': " + errno_text());
    const pid_t pid = spawn({m_exec_binary, "--spec", m_paths.spec_file(unit.name), "--control-fd",
                             std::to_string(kControlFd)},
                            m_isolated, pair[1]);
    const int spawn_errno = errno;
    close(pair[1]);
    if (pid < 0) {
        close(pair[0]);
        errno = spawn_errno;
        return Result<pid_t>::fail("cannot start gitvisor-exec for '" + unit.name + "': " + errno_text());
    }
    Process p;
    p.exec_pid = pid;
    p.child = true;
    p.pidfd = pidfd_open(pid);
    p.cgroup = cgroup;
    p.status.state = "activating";
    p.status.sub_state = "start";
    p.status.invocation = context.invocation;
    p.socket = pair[0];
    watch(unit.name, std::move(p));
    send(unit.name, "{\"op\":\"status\"}");
    return Result<pid_t>::ok(pid);
}

bool Supervisor::adopt(const std::string& unit, pid_t exec_pid) {
    if (exec_pid <= 0 || !cmdline_mentions(exec_pid, m_paths.spec_file(unit))) return false;
    Process p;
    p.exec_pid = exec_pid;
    p.pidfd = pidfd_open(exec_pid);
    if (p.pidfd < 0) return false;
    p.cgroup = m_cgroups.locate(unit);
    if (auto s = parse_exec_status(read_text(m_paths.status_file(unit)))) p.status = *s;
    p.socket = connect_control(unit, 50);
    watch(unit, std::move(p));
    send(unit, "{\"op\":\"status\"}");
    return true;
}

bool Supervisor::send(const std::string& unit, const std::string& line) {
    std::lock_guard lock(m_mutex);
    auto it = m_units.find(unit);
    if (it == m_units.end() || it->second.socket < 0) return false;
    const std::string data = line + "\n";
    return ::send(it->second.socket, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

Result<bool> Supervisor::stop(const std::string& unit, int64_t timeout_usec, bool restarting) {
    const pid_t pid = exec_pid(unit);
    if (pid == 0) return Result<bool>::ok(false);
    if (!send(unit, restarting ? "{\"op\":\"stop\",\"restart\":true}" : "{\"op\":\"stop\"}")) ::kill(pid, SIGTERM);  // SIGTERM to gitvisor-exec also means stop
    // gitvisor-exec escalates to SIGKILL itself after TimeoutStopSec=; the grace covers ExecStop= and slow disks.
    const auto grace = std::chrono::seconds(5);
    const auto deadline = std::chrono::steady_clock::now() + grace +
                          (timeout_usec < 0 ? std::chrono::hours(24 * 365) : std::chrono::microseconds(timeout_usec) * 2);
    std::unique_lock lock(m_mutex);
    if (wait_for_unit(lock, unit, deadline, [&] { return m_interrupted || !m_units.count(unit); }))
        return Result<bool>::ok(true);
    // It did not finish: kill the whole namespace (its PID 1 dying takes every process with it).
    ::kill(pid, SIGKILL);
    const UnitCgroup cgroup = m_units.count(unit) ? m_units[unit].cgroup : UnitCgroup{};
    lock.unlock();
    cgroup.kill_all();
    lock.lock();
    wait_for_unit(lock, unit, std::chrono::steady_clock::now() + grace, [&] { return !m_units.count(unit); });
    return Result<bool>::ok(true);
}

Result<bool> Supervisor::kill(const std::string& unit, int signal, bool all) {
    if (!running(unit)) return Result<bool>::fail("'" + unit + "' is not running");
    const std::string line = "{\"op\":\"kill\",\"signal\":" + std::to_string(signal) + ",\"whom\":\"" +
                             (all ? "all" : "main") + "\"}";
    if (!send(unit, line)) return Result<bool>::fail("cannot reach the supervisor of '" + unit + "'");
    return Result<bool>::ok(true);
}

Result<bool> Supervisor::ask(const std::string& unit, const std::string& request, int timeout_ms) {
    const Result<std::string> reply = ask_reply(unit, request, timeout_ms);
    if (!reply) return Result<bool>::fail(reply.error());
    return Result<bool>::ok(true);
}

Result<std::string> Supervisor::ask_reply(const std::string& unit, const std::string& request, int timeout_ms) {
    using R = Result<std::string>;
    if (!running(unit)) return R::fail("'" + unit + "' is not running");
    const int fd = connect_control(unit, 20);
    if (fd < 0) return R::fail("cannot reach the supervisor of '" + unit + "'");
    const std::string line = request + "\n";
    std::string buffer;
    std::optional<R> answer;
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
        answer = R::fail("cannot reach the supervisor of '" + unit + "'");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!answer) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            answer = R::fail("no answer from the supervisor of '" + unit + "' in time");
            break;
        }
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char chunk[4096];
        const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            answer = R::fail("the supervisor of '" + unit + "' went away");
            break;
        }
        buffer.append(chunk, static_cast<size_t>(n));
        // State events are pushed to every client: the answer is the line that starts with "ok".
        for (size_t nl; !answer && (nl = buffer.find('\n')) != std::string::npos;) {
            const std::string reply = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            if (reply.rfind("{\"ok\":true", 0) == 0) answer = R::ok(reply);
            if (reply.rfind("{\"ok\":false", 0) == 0) {
                std::string error = "refused";
                try {
                    Poco::JSON::Parser parser;
                    error = parser.parse(reply).extract<Poco::JSON::Object::Ptr>()->optValue<std::string>("error", error);
                } catch (const std::exception&) {
                }
                answer = R::fail(error);
            }
        }
    }
    close(fd);
    return *answer;
}

std::optional<ExecStatus> Supervisor::wait_started(const std::string& unit, int timeout_ms) {
    const auto started = [](const ExecStatus& s) {
        return s.sub_state == "auto-restart" || (s.state != "activating" && s.state != "deactivating");
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::unique_lock lock(m_mutex);
    while (true) {
        auto it = m_units.find(unit);
        if (m_interrupted || it == m_units.end() || started(it->second.status)) break;
        if (it->second.socket < 0) {
            // No control connection yet (gitvisor-exec was slow to listen, e.g. on a loaded host): try again,
            // and meanwhile read the status file it keeps, so a start is never waited for in the dark.
            lock.unlock();
            const int fd = connect_control(unit, 1);
            const std::optional<ExecStatus> from_file = parse_exec_status(read_text(m_paths.status_file(unit)));
            lock.lock();
            it = m_units.find(unit);
            if (it == m_units.end()) {
                if (fd >= 0) close(fd);
                break;
            }
            if (fd >= 0) {
                register_fd(unit, fd);
                it->second.socket = fd;
                const std::string request = "{\"op\":\"status\"}\n";
                (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
            }
            if (from_file && !from_file->invocation.empty() && from_file->invocation == it->second.status.invocation)
                it->second.status = *from_file;
            if (started(it->second.status)) break;
        }
        const auto slice = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(50));
        bool first = true;  // one wake-up, or the slice's end
        wait_for_unit(lock, unit, slice, [&first] { return !std::exchange(first, false); });
        if (std::chrono::steady_clock::now() >= deadline) break;
    }
    auto it = m_units.find(unit);
    if (it != m_units.end()) return it->second.status;
    lock.unlock();
    return parse_exec_status(read_text(m_paths.status_file(unit)));
}

bool Supervisor::running(const std::string& unit) {
    std::lock_guard lock(m_mutex);
    return m_units.count(unit) > 0;
}

std::optional<ExecStatus> Supervisor::status(const std::string& unit) {
    std::lock_guard lock(m_mutex);
    auto it = m_units.find(unit);
    if (it == m_units.end()) return std::nullopt;
    return it->second.status;
}

pid_t Supervisor::exec_pid(const std::string& unit) {
    std::lock_guard lock(m_mutex);
    auto it = m_units.find(unit);
    return it == m_units.end() ? 0 : it->second.exec_pid;
}

pid_t Supervisor::main_host_pid(const std::string& unit) {
    pid_t exec = 0;
    int64_t main = 0;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_units.find(unit);
        if (it == m_units.end()) return 0;
        exec = it->second.exec_pid;
        main = it->second.status.main_pid;
    }
    if (main <= 0) return 0;
    if (!m_isolated) return static_cast<pid_t>(main);
    return host_pid_of(exec, main);
}

bool Supervisor::is_exec_pid(pid_t pid) {
    std::lock_guard lock(m_mutex);
    for (const auto& [unit, process] : m_units)
        if (process.exec_pid == pid) return true;
    return false;
}

std::vector<std::string> Supervisor::running_units() {
    std::lock_guard lock(m_mutex);
    std::vector<std::string> out;
    for (const auto& [unit, p] : m_units) out.push_back(unit);
    return out;
}

void Supervisor::on_readable(const std::string& unit) {
    std::vector<ExecStatus> updates;
    bool closed = false;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_units.find(unit);
        if (it == m_units.end() || it->second.socket < 0) return;
        Process& p = it->second;
        char buf[4096];
        const ssize_t n = recv(p.socket, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
            closed = true;
        } else {
            p.buffer.append(buf, static_cast<size_t>(n));
            for (size_t nl; (nl = p.buffer.find('\n')) != std::string::npos;) {
                const std::string line = p.buffer.substr(0, nl);
                p.buffer.erase(0, nl + 1);
                // State events, and the answer to the status request sent on connecting (which covers
                // changes made before the connection); {"ok":...} replies carry no state.
                if (line.find("\"state\"") == std::string::npos) continue;
                if (auto s = parse_exec_status(line)) {
                    p.status = *s;
                    updates.push_back(*s);
                }
            }
        }
        if (closed) {
            epoll_ctl(m_epoll, EPOLL_CTL_DEL, p.socket, nullptr);
            m_fd_owner.erase(p.socket);
            close(p.socket);
            p.socket = -1;
        }
    }
    if (!updates.empty()) notify(unit);
    for (const ExecStatus& s : updates) m_listener(unit, s, false);
}

// The unit stays listed until its cgroup is gone and its end is recorded: whoever waits for it to be gone
// (stop(), so a deploy) may start it again at once, into a cgroup of the same name, and then reads its state.
void Supervisor::on_exit(const std::string& unit) {
    Process p;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_units.find(unit);
        if (it == m_units.end()) return;
        for (int* fd : {&it->second.pidfd, &it->second.socket}) {
            if (*fd < 0) continue;
            epoll_ctl(m_epoll, EPOLL_CTL_DEL, *fd, nullptr);
            m_fd_owner.erase(*fd);
            close(*fd);
            *fd = -1;
        }
        p = it->second;
    }
    ExecStatus final = p.status;
    if (auto s = parse_exec_status(read_text(m_paths.status_file(unit)))) final = *s;
    if (final.state == "active" || final.state == "activating" || final.state == "deactivating") {
        // gitvisor-exec died without writing its end (killed): the unit is gone with it.
        final.state = "failed";
        final.sub_state = "failed";
        final.result = "signal";
    }
    final.main_pid = 0;
    if (!p.cgroup.dirs().empty()) {
        p.cgroup.kill_all();
        (void)p.cgroup.remove();
    }
    m_listener(unit, final, true);
    {
        std::lock_guard lock(m_mutex);
        m_units.erase(unit);
    }
    // Reaped only now: while listed, its pid stays its own (a zombie), so a stop() that signals it hits
    // nothing else.
    if (p.child) waitpid(p.exec_pid, nullptr, 0);
    notify(unit);
}

void Supervisor::loop() {
    epoll_event events[32];
    while (true) {
        const int n = epoll_wait(m_epoll, events, 32, -1);
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < n; ++i) {
            const int fd = static_cast<int>(static_cast<uint32_t>(events[i].data.u64));
            const uint32_t registration = static_cast<uint32_t>(events[i].data.u64 >> 32);
            if (registration == 0 && fd == m_wake) {
                std::lock_guard lock(m_mutex);
                if (m_stopping) return;
                continue;
            }
            std::string unit;
            bool is_pidfd = false;
            {
                std::lock_guard lock(m_mutex);
                auto owner = m_fd_owner.find(fd);
                if (owner == m_fd_owner.end() || owner->second.registration != registration) continue;
                unit = owner->second.unit;
                is_pidfd = m_units.count(unit) && m_units[unit].pidfd == fd;
            }
            if (is_pidfd) {
                on_readable(unit);  // read the last events before the end
                on_exit(unit);
            } else {
                on_readable(unit);
            }
        }
    }
}

}  // namespace gitvisor::daemon
