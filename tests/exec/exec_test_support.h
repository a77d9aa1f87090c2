#pragma once
// Helpers for the tests that run the real gitvisor-exec: a temporary directory, a spec builder, and
// ExecProcess, which starts the binary as a plain child or as PID 1 of a new PID and mount namespace and,
// whatever happens in the test, kills and reaps it and every process it left behind.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "common/json_reader.h"
#include "exec/kill.h"

namespace exec_test {

inline const std::string kExecBinary = GITVISOR_BINARY_DIR "/src/exec/gitvisor-exec";

inline bool is_root() { return ::geteuid() == 0; }

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "gitvisor-exec-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return m_path; }
    std::string file(const std::string& name) const { return m_path + "/" + name; }

private:
    std::string m_path;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

inline void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

// Polls `condition` every 10 ms until it holds or `seconds` pass.
inline bool eventually(const std::function<bool()>& condition, double seconds = 10.0) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (true) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() > give_up) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// A process is gone when /proc has no entry for it or it is a zombie.
inline bool process_gone(pid_t pid) {
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (stat.empty()) return true;
    const size_t close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

// The pids of a process as its namespaces see it, outermost first (/proc/PID/status "NSpid:").
inline std::vector<pid_t> ns_pids(pid_t pid) {
    std::vector<pid_t> out;
    for (const std::string& line : lines_of(read_file("/proc/" + std::to_string(pid) + "/status"))) {
        if (line.rfind("NSpid:", 0) != 0) continue;
        std::istringstream in(line.substr(6));
        pid_t value = 0;
        while (in >> value) out.push_back(value);
    }
    return out;
}

// A command object for the spec.
inline std::string command(const std::vector<std::string>& argv, const std::string& flags = "") {
    std::string out = "{\"path\":" + gitvisor::json_quote(argv.at(0)) + ",\"argv\":[";
    for (size_t i = 0; i < argv.size(); ++i) out += (i ? "," : "") + gitvisor::json_quote(argv[i]);
    return out + "]" + (flags.empty() ? "" : "," + flags) + "}";
}
inline std::string shell(const std::string& script, const std::string& flags = "") {
    return command({"/bin/sh", "-c", script}, flags);
}
inline std::string list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
    return out + "]";
}
// A JSON array of strings.
inline std::string quoted_list(const std::vector<std::string>& items) {
    std::vector<std::string> out;
    for (const std::string& item : items) out.push_back(gitvisor::json_quote(item));
    return list(out);
}

// The spec as raw JSON values by field; the paths point into the test's directory.
class SpecBuilder {
public:
    explicit SpecBuilder(const std::string& unit = "test.service") {
        set("version", "1");
        set("unit", gitvisor::json_quote(unit));
        set("invocation", "\"0123456789abcdef0123456789abcdef\"");
        set("timeout_stop_usec", "5000000");
    }
    SpecBuilder& set(const std::string& field, const std::string& raw_json) {
        m_fields[field] = raw_json;
        return *this;
    }
    SpecBuilder& start(const std::string& command_json) { return set("exec_start", list({command_json})); }
    std::string json(const std::string& dir) const {
        std::map<std::string, std::string> fields = m_fields;
        fields.emplace("log_file", gitvisor::json_quote(dir + "/logs/current"));
        fields.emplace("status_file", gitvisor::json_quote(dir + "/run/status.json"));
        fields.emplace("control_socket", gitvisor::json_quote(dir + "/run/control.sock"));
        std::string out = "{";
        for (const auto& [name, value] : fields)
            out += (out.size() > 1 ? "," : "") + gitvisor::json_quote(name) + ":" + value;
        return out + "}";
    }

private:
    std::map<std::string, std::string> m_fields;
};

// Plain: a child, as gitvisord starts it without root. Namespace: PID 1 of new PID and mount namespaces,
// as gitvisord starts it as root. PidNamespaceOnly: a wrong start, for the test that checks the guard.
enum class Mode { Plain, Namespace, PidNamespaceOnly };

inline const char* mode_name(Mode mode) {
    return mode == Mode::Plain       ? "plain child"
           : mode == Mode::Namespace ? "PID namespace"
                                     : "PID namespace only";
}

// The tests that need root (namespaces, User=, cgroups) skip with a printed reason without it.
#define EXEC_TEST_SKIP_UNLESS_ROOT(what)                                                         \
    do {                                                                                         \
        if (!exec_test::is_root()) {                                                             \
            WARN("skipped: " << (what) << " needs root (running as uid " << ::geteuid() << ")"); \
            return;                                                                              \
        }                                                                                        \
    } while (false)

// One running gitvisor-exec. The destructor kills it and everything it started, and reaps them all.
class ExecProcess {
public:
    ExecProcess(const TempDir& dir, const SpecBuilder& spec, Mode mode = Mode::Plain)
        : m_dir(dir.path()), m_mode(mode) {
        // Orphans of a killed gitvisor-exec come back to the test, which reaps them.
        ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        m_spec_path = dir.file("spec.json");
        write_file(m_spec_path, spec.json(dir.path()));
        m_pid = mode == Mode::Plain ? start_plain() : start_in_namespace(mode == Mode::Namespace);
    }
    ~ExecProcess() { kill_everything(); }
    ExecProcess(const ExecProcess&) = delete;
    ExecProcess& operator=(const ExecProcess&) = delete;

    pid_t pid() const { return m_pid; }
    Mode mode() const { return m_mode; }
    std::string status_path() const { return m_dir + "/run/status.json"; }
    std::string socket_path() const { return m_dir + "/run/control.sock"; }
    std::string log() const { return read_file(m_dir + "/logs/current"); }

    // The status file, parsed (a null value while there is none).
    gitvisor::JsonValue status() const {
        auto parsed = gitvisor::parse_json(read_file(status_path()));
        return parsed ? *parsed : gitvisor::JsonValue();
    }
    std::string field(const std::string& name) const {
        const gitvisor::JsonValue value = status();
        const gitvisor::JsonValue* member = value.find(name);
        if (member == nullptr) return "";
        return member->is_string() ? member->as_string() : std::to_string(member->as_integer());
    }
    std::string state() const { return field("state") + "/" + field("sub_state"); }
    bool wait_state(const std::string& state_and_sub, double seconds = 10.0) const {
        return eventually([&] { return state() == state_and_sub; }, seconds);
    }
    bool wait_log(const std::string& text, double seconds = 10.0) const {
        return eventually([&] { return log().find(text) != std::string::npos; }, seconds);
    }

    // Waits for gitvisor-exec to exit; its exit status (or nullopt on timeout).
    std::optional<int> wait_exit(double seconds = 10.0) {
        if (m_exit) return m_exit;
        eventually(
            [&] {
                int status = 0;
                if (::waitpid(m_pid, &status, WNOHANG) != m_pid) return false;
                m_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return true;
            },
            seconds);
        return m_exit;
    }

    // The host pid of the main process (status main_pid is the namespace's pid).
    pid_t main_host_pid() const {
        const pid_t main_pid = static_cast<pid_t>(std::stol("0" + field("main_pid")));
        if (main_pid <= 0) return 0;
        if (m_mode == Mode::Plain) return main_pid;
        for (const pid_t pid : gitvisor::exec::list_descendants(m_pid)) {
            const std::vector<pid_t> ids = ns_pids(pid);
            if (ids.size() == 2 && ids[1] == main_pid) return pid;
        }
        return 0;
    }

    // Sends one request on a new connection and returns the first reply line that is not an event.
    std::string request(const std::string& line, double seconds = 15.0) const {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, socket_path().c_str(), sizeof address.sun_path - 1);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            ::close(fd);
            return "connect failed: " + std::string(std::strerror(errno));
        }
        const std::string text = line + "\n";
        [[maybe_unused]] const ssize_t sent = ::write(fd, text.data(), text.size());
        std::string buffer;
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (std::chrono::steady_clock::now() < give_up) {
            for (size_t newline; (newline = buffer.find('\n')) != std::string::npos;) {
                std::string reply = buffer.substr(0, newline);
                buffer.erase(0, newline + 1);
                if (reply.rfind("{\"event\"", 0) != 0) {
                    ::close(fd);
                    return reply;
                }
            }
            pollfd waiting{fd, POLLIN, 0};
            if (::poll(&waiting, 1, 100) <= 0) continue;
            char chunk[4096];
            const ssize_t n = ::read(fd, chunk, sizeof chunk);
            if (n <= 0) break;
            buffer.append(chunk, static_cast<size_t>(n));
        }
        ::close(fd);
        return "no reply";
    }

private:
    pid_t start_plain() {
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::execl(kExecBinary.c_str(), "gitvisor-exec", "--spec", m_spec_path.c_str(), nullptr);
            ::_exit(127);
        }
        return pid;
    }

    // clone3(CLONE_NEWPID | CLONE_NEWNS): the child is PID 1 of the new namespace, as under gitvisord.
    pid_t start_in_namespace(bool with_mount_namespace) {
        struct {
            uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
        } args{};
        args.flags = CLONE_NEWPID | (with_mount_namespace ? CLONE_NEWNS : 0);
        args.exit_signal = SIGCHLD;
        const long pid = ::syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0) {
            ::execl(kExecBinary.c_str(), "gitvisor-exec", "--spec", m_spec_path.c_str(), nullptr);
            ::_exit(127);
        }
        return static_cast<pid_t>(pid);
    }

    void kill_everything() {
        if (m_pid <= 0) return;
        if (!m_exit) {
            // Without a namespace, the service's processes would outlive a killed gitvisor-exec.
            for (const pid_t pid : gitvisor::exec::list_descendants(m_pid)) ::kill(pid, SIGKILL);
            ::kill(m_pid, SIGKILL);
            int status = 0;
            ::waitpid(m_pid, &status, 0);
        }
        // Whatever was re-parented to the test (its subreaper) is killed and reaped too.
        eventually(
            [] {
                for (const pid_t pid : gitvisor::exec::list_descendants(::getpid())) ::kill(pid, SIGKILL);
                while (::waitpid(-1, nullptr, WNOHANG) > 0) {
                }
                return gitvisor::exec::list_descendants(::getpid()).empty();
            },
            5.0);
    }

    std::string m_dir;
    Mode m_mode;
    std::string m_spec_path;
    pid_t m_pid = -1;
    std::optional<int> m_exit;
};

// Runs `script` with /bin/sh as a oneshot unit with `fields` set ({name, raw JSON}) and returns its log
// once gitvisor-exec has exited ("" when it has not within 10 s: the caller's checks then fail).
inline std::string run_oneshot(const std::string& script,
                               const std::vector<std::pair<std::string, std::string>>& fields,
                               Mode mode = Mode::Plain) {
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"").set("exec_start", list({shell(script)}));
    for (const auto& [name, value] : fields) spec.set(name, value);
    ExecProcess exec(dir, spec, mode);
    return exec.wait_exit().has_value() ? exec.log() : std::string();
}

}  // namespace exec_test
