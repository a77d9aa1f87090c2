// gitvisord: the daemon (DESIGN §1, §9). A Poco ServerApplication: flags through Poco Util, settings also
// from /etc/gitvisor/gitvisord.ini (every setting is also a flag). Stopping gitvisord leaves every unit
// running (their gitvisor-exec outlive it) unless --stop-units-on-exit.

#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/IniFileConfiguration.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>
#include <git2.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "daemon/control/server.h"
#include "daemon/core/daemon.h"
#include "unitfile/values.h"

namespace {

using Poco::Util::Option;
using Poco::Util::OptionSet;

// gitvisor-exec lives beside gitvisord when built, in ../libexec/gitvisor when installed.
std::string find_exec_binary() {
    if (const char* env = std::getenv("GITVISOR_EXEC")) return env;
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    for (const auto& candidate : {self / "gitvisor-exec", self / "../exec/gitvisor-exec",
                                  self / "../libexec/gitvisor/gitvisor-exec"})
        if (std::filesystem::exists(candidate, ec)) return std::filesystem::weakly_canonical(candidate, ec).string();
    return "/usr/libexec/gitvisor/gitvisor-exec";
}

// gitvisord only reads commits and refs from the repository (no checkout, hooks or filters), so git's refusal
// to use a repository owned by another user (safe.directory) guards against nothing here, while the usual
// set-up has one: a repository owned by the user who pushes to it, read by gitvisord as root. Nor does
// gitvisord use the git configuration of whatever HOME it was started with; an unreadable ~/.gitconfig
// (gitvisord started as another user by setpriv or su) would otherwise make every repository fail to open.
void configure_libgit2() {
    git_libgit2_init();  // reference-counted: the repository code's own initialisation adds to it
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    for (int level : {GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_XDG})
        git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "");
}

// sd_notify(3) without libsystemd: under a service manager (Type=notify), $NOTIFY_SOCKET names a datagram
// socket (a path, or '@' for the abstract namespace) that takes "READY=1", "STATUS=...", "STOPPING=1".
// Read once and removed from the environment, so that no unit inherits it.
class ServiceManagerNotifier {
public:
    ServiceManagerNotifier() {
        if (const char* socket = std::getenv("NOTIFY_SOCKET")) m_socket = socket;
        ::unsetenv("NOTIFY_SOCKET");
    }
    void send(const std::string& message) const {
        if (m_socket.empty() || m_socket.size() >= sizeof(sockaddr_un::sun_path)) return;
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, m_socket.data(), m_socket.size());
        if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
        const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return;
        const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + m_socket.size());
        (void)::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address),
                       length);
        ::close(fd);
    }

private:
    std::string m_socket;
};

class Gitvisord : public Poco::Util::ServerApplication {
protected:
    void defineOptions(OptionSet& options) override {
        ServerApplication::defineOptions(options);
        const auto setting = [&](const char* name, const char* argument, const char* help) {
            options.addOption(Option(name, "", help).required(false).repeatable(false).argument(argument).binding(
                std::string("gitvisord.") + name));
        };
        setting("repo", "PATH", "the watched repository (default /etc/gitvisor/units)");
        setting("branch", "NAME", "the watched branch (default main)");
        setting("state-dir", "DIR", "state.db and logs (default /var/lib/gitvisor)");
        setting("run-dir", "DIR", "control.sock and units/ (default /run/gitvisor)");
        setting("hostname", "NAME", "the name ConditionHost= matches (default: the host's)");
        setting("exec-path", "PATH", "the gitvisor-exec program");
        setting("cgroup-parent", "NAME", "the cgroup folder made for units (default gitvisor)");
        setting("log-max-bytes", "SIZE", "a unit's log rotates past this size (default 16M; 0: never)");
        setting("log-max-files", "N", "rotated log files kept per unit (default 4)");
        setting("config", "FILE", "settings file (default /etc/gitvisor/gitvisord.ini)");
        setting("remote", "URL", "remote mode: fetch this repository's branch (file://, git://, https://, ssh://)");
        setting("fetch-interval", "SECONDS", "remote mode: fetch every SECONDS (default 30)");
        setting("ssh-key", "FILE", "remote mode: private key for ssh:// remotes");
        setting("token-file", "FILE", "remote mode: token for https:// remotes (or user:token)");
        setting("http", "ADDR:PORT", "serve /metrics, /healthz, /v1/... on this address (off by default; "
                                     ":PORT is 127.0.0.1:PORT)");
        setting("http-token-file", "FILE", "bearer token that POST /v1/sync (webhooks) must present");
        options.addOption(Option("foreground", "", "stay attached and log to stderr").required(false).binding(
            "gitvisord.foreground"));
        options.addOption(Option("stop-units-on-exit", "", "stop every unit when gitvisord exits")
                              .required(false)
                              .binding("gitvisord.stop-units-on-exit"));
        options.addOption(Option("container", "",
                                 "run as a container's entrypoint (implied as PID 1): reap orphans, and on SIGTERM stop "
                                 "every unit in dependency order and exit 0 only if all stopped cleanly")
                              .required(false)
                              .binding("gitvisord.container"));
        setting("shutdown-timeout", "SECONDS", "the longest a stop of every unit may take at exit (default 30)");
        options.addOption(Option("help", "h", "print this help").required(false).callback(
            Poco::Util::OptionCallback<Gitvisord>(this, &Gitvisord::help)));
    }

    void help(const std::string&, const std::string&) {
        Poco::Util::HelpFormatter formatter(options());
        formatter.setCommand(commandName());
        formatter.setUsage("[--repo PATH] [--state-dir DIR] [--run-dir DIR] [--foreground] ...");
        formatter.setHeader("gitvisord deploys the systemd-style units of a git repository, one commit at a time.");
        formatter.format(std::cout);
        m_help = true;
        stopOptionsProcessing();
    }

    int main(const std::vector<std::string>&) override {
        if (m_help) return EXIT_OK;
        // The default settings file may be absent; one named by --config must be there. It is read as an ini
        // file whatever its name ends with (Poco's loadConfiguration() would go by the extension).
        const bool named = config().hasProperty("gitvisord.config");
        const std::string ini = config().getString("gitvisord.config", "/etc/gitvisor/gitvisord.ini");
        if (named || std::filesystem::exists(ini)) {
            try {
                config().add(new Poco::Util::IniFileConfiguration(ini), PRIO_DEFAULT);
            } catch (const Poco::Exception& e) {
                std::cerr << "gitvisord: error: cannot read settings file '" << ini
                          << "': " << e.displayText() << "\n";
                return EXIT_CONFIG;
            }
        }
        const auto get = [&](const char* key, const std::string& fallback) {
            // Flags are bound to "gitvisord.<name>"; the ini file holds the same names in a [gitvisord] section.
            return config().getString(std::string("gitvisord.") + key, fallback);
        };
        gitvisor::daemon::DaemonOptions options;
        options.paths.repo = get("repo", options.paths.repo);
        options.paths.branch = get("branch", options.paths.branch);
        options.paths.state_dir = get("state-dir", options.paths.state_dir);
        options.paths.run_dir = get("run-dir", options.paths.run_dir);
        // gitvisor-exec runs elsewhere (its own working directory): every path it is given is absolute.
        for (std::string* path : {&options.paths.repo, &options.paths.state_dir, &options.paths.run_dir})
            *path = std::filesystem::absolute(*path).lexically_normal().string();
        options.hostname = get("hostname", "");
        options.http_address = get("http", "");
        options.http_token_file = get("http-token-file", "");
        options.remote = get("remote", "");
        if (!options.remote.empty()) {
            if (config().hasProperty("gitvisord.repo")) {
                std::cerr << "gitvisord: error: --repo and --remote exclude each other (remote mode deploys from "
                             "<state-dir>/mirror)\n";
                return EXIT_USAGE;
            }
            options.paths.repo = options.paths.state_dir + "/mirror";
            options.ssh_key_file = get("ssh-key", "");
            options.token_file = get("token-file", "");
            const std::string interval = get("fetch-interval", "30");
            char* end = nullptr;
            const long long seconds = std::strtoll(interval.c_str(), &end, 10);
            if (*end != '\0' || seconds < 1 || seconds > 86400) {
                std::cerr << "gitvisord: error: invalid value '" << interval << "' for fetch-interval (1 to 86400 s)\n";
                return EXIT_CONFIG;
            }
            options.fetch_interval_sec = seconds;
        }
        options.exec_binary = get("exec-path", find_exec_binary());
        options.cgroup_parent = get("cgroup-parent", options.cgroup_parent);
        if (const std::string size = get("log-max-bytes", ""); !size.empty()) {
            auto parsed = gitvisor::unitfile::parse_size(size, false, true);
            if (!parsed) {
                std::cerr << "gitvisord: error: invalid value '" << size << "' for log-max-bytes: " << parsed.error()
                          << "\n";
                return EXIT_CONFIG;
            }
            options.log.max_bytes = parsed->kind == gitvisor::unitfile::Limit::Kind::Value
                                        ? static_cast<int64_t>(parsed->value)
                                        : 0;
        }
        if (const std::string files = get("log-max-files", ""); !files.empty()) {
            char* end = nullptr;
            const long long n = std::strtoll(files.c_str(), &end, 10);
            if (*end != '\0' || n < 0 || n > 1000) {
                std::cerr << "gitvisord: error: invalid value '" << files << "' for log-max-files (0 to 1000)\n";
                return EXIT_CONFIG;
            }
            options.log.max_files = n;
        }
        // The flag sets its key to ""; the settings file says yes or no (true/false, on/off, 1/0).
        const std::string stop = config().getString("gitvisord.stop-units-on-exit", "no");
        try {
            options.stop_units_on_exit =
                stop.empty() || config().getBool("gitvisord.stop-units-on-exit", false);
        } catch (const Poco::Exception&) {
            std::cerr << "gitvisord: error: invalid value '" << stop
                      << "' for stop-units-on-exit (yes or no)\n";
            return EXIT_CONFIG;
        }

        const std::string container = config().getString("gitvisord.container", "no");
        try {
            options.container = ::getpid() == 1 || container.empty() || config().getBool("gitvisord.container", false);
        } catch (const Poco::Exception&) {
            std::cerr << "gitvisord: error: invalid value '" << container << "' for container (yes or no)\n";
            return EXIT_CONFIG;
        }
        if (const std::string timeout = get("shutdown-timeout", "30"); !timeout.empty()) {
            char* end = nullptr;
            const long long seconds = std::strtoll(timeout.c_str(), &end, 10);
            if (*end != '\0' || seconds < 1 || seconds > 86400) {
                std::cerr << "gitvisord: error: invalid value '" << timeout << "' for shutdown-timeout (1 to 86400 s)\n";
                return EXIT_CONFIG;
            }
            options.shutdown_timeout_usec = seconds * 1'000'000;
        }

        // libgit2 checks ssh:// host keys against $HOME/.ssh/known_hosts, and a service manager sets HOME only
        // for units with User=: without it every ssh:// fetch would fail. The account's home, as ssh does.
        if (std::getenv("HOME") == nullptr)
            if (const passwd* account = ::getpwuid(::getuid()); account && account->pw_dir)
                ::setenv("HOME", account->pw_dir, 0);

        configure_libgit2();
        const ServiceManagerNotifier notifier;
        gitvisor::daemon::Daemon daemon(options);
        if (auto started = daemon.start(); !started) {
            std::cerr << "gitvisord: error: cannot start: " << started.error() << "\n";
            return EXIT_SOFTWARE;
        }
        gitvisor::daemon::ControlServer server;
        if (auto listening = server.start(options.paths.control_socket(),
                                          [&](const auto& request, const auto& caller) {
                                              return daemon.handle(request, caller);
                                          },
                                          [&](const auto& request, const auto& caller, auto& stream) {
                                              return daemon.handle_stream(request, caller, stream);
                                          });
            !listening) {
            std::cerr << "gitvisord: error: cannot start: " << listening.error() << "\n";
            return EXIT_SOFTWARE;
        }
        std::cerr << "gitvisord: watching " << options.paths.repo << " (branch " << options.paths.branch
                  << "), control socket " << options.paths.control_socket() << "\n";
        notifier.send("READY=1\nSTATUS=watching " + options.paths.repo + " (branch " + options.paths.branch + ")\nMAINPID=" +
                      std::to_string(::getpid()));
        waitForTerminationRequest();
        notifier.send("STOPPING=1");
        const bool stopping = options.stop_units_on_exit || options.container;
        std::cerr << (stopping ? "gitvisord: exiting after stopping every unit\n"
                               : "gitvisord: exiting; units keep running\n");
        server.stop();
        daemon.shutdown();
        return daemon.exit_status();
    }

private:
    bool m_help = false;
};

}  // namespace

int main(int argc, char** argv) {
    // Block the termination signals before any thread starts, so that only waitForTerminationRequest()'s
    // sigwait takes them (a thread without the block would die of SIGTERM's default action); SIGPIPE too,
    // as writes to gone clients are handled where they happen. gitvisor-exec resets its mask.
    sigset_t set;
    sigemptyset(&set);
    // SIGCHLD: taken by the orphan reaper of container mode (gitvisor-exec processes are watched by pidfd);
    // SIGHUP: ignored rather than fatal, as for a daemon that has nothing to reload on it.
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGCHLD, SIGHUP}) sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    Gitvisord app;
    return app.run(argc, argv);
}
