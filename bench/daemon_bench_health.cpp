// Figures 9 and 10: gitvisord's CPU while 500 units are health-checked over HTTP every second, and the time
// a GET /metrics with 1,000 units takes (bench/README.md).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "daemon_bench.h"

namespace gitvisor::bench {
namespace {

// A listening socket on 127.0.0.1 answering every request "200 OK" from one thread, as cheaply as it can:
// the checks' target, so that what is measured is gitvisord's side of them.
class OkServer {
public:
    OkServer() {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(m_fd, 1024) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1 for the health checks");
        socklen_t len = sizeof a;
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len);
        m_port = ntohs(a.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~OkServer() {
        m_quit = true;
        m_thread.join();
        ::close(m_fd);
    }
    int port() const { return m_port; }
    long answered() const { return m_answered; }

private:
    void serve() {
        static const char kAnswer[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
        while (!m_quit) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            char buffer[2048];
            std::string request;
            while (request.find("\r\n\r\n") == std::string::npos) {
                pollfd q{c, POLLIN, 0};
                if (::poll(&q, 1, 1000) <= 0) break;
                const ssize_t n = ::read(c, buffer, sizeof buffer);
                if (n <= 0) break;
                request.append(buffer, static_cast<size_t>(n));
            }
            (void)!::write(c, kAnswer, sizeof kAnswer - 1);
            ::close(c);
            ++m_answered;
        }
    }
    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_quit{false};
    std::atomic<long> m_answered{0};
    std::thread m_thread;
};

// utime + stime of a process, in clock ticks.
long cpu_ticks(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t paren = all.rfind(')');
    if (paren == std::string::npos) throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/stat");
    std::istringstream fields(all.substr(paren + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i) fields >> skip;  // state .. cmajflt (fields 3-13)
    long utime = 0, stime = 0;
    fields >> utime >> stime;
    return utime + stime;
}

// GET /metrics over a fresh connection: the body's size, or throws.
size_t scrape(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot connect to gitvisord's HTTP endpoint");
    }
    static const char kRequest[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    (void)!::write(fd, kRequest, sizeof kRequest - 1);
    std::string answer;
    char buffer[65536];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<size_t>(n));
    ::close(fd);
    if (answer.rfind("HTTP/1.1 200", 0) != 0) throw std::runtime_error("GET /metrics: " + answer.substr(0, 80));
    return answer.size();
}

std::string sleeper(const std::string& extra) {
    return "[Service]\nExecStart=/bin/sleep infinity\n" + extra;
}

}  // namespace

void Bench::health_cpu() {
    OkServer server;
    const int units = m_options.health_units;
    std::vector<std::string> names;
    char name[64];
    for (int i = 0; i < units; ++i) {
        std::snprintf(name, sizeof name, "checked-%04d.service", i);
        names.emplace_back(name);
        m_files[name] = sleeper("[X-Gitvisor]\nHealthCheckURL=http://127.0.0.1:" + std::to_string(server.port()) +
                                "/healthz\nHealthCheckInterval=1s\nHealthCheckTimeout=2s\n");
    }
    const double timeout = 120 + units * 0.05;
    // The deploy waits until every unit passed its first check: all are checked from then on.
    wait_deployed(commit("bench: " + thousands(units) + " units with an HTTP check every second").commit, timeout);
    // The pauses below end early on Ctrl-C (wait_until throws Interrupted), so clean-up starts at once.
    const auto nothing = [] { return false; };
    wait_until(nothing, std::min(5, m_options.warmup + 1), std::chrono::milliseconds(100));

    const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
    const pid_t daemon = m_session.daemon_pid();
    std::vector<double> percents;
    const int windows = std::max(1, m_options.health_seconds / 10);
    const long answered_before = server.answered();
    for (int w = 0; w < windows; ++w) {
        const long before = cpu_ticks(daemon);
        const auto started = Clock::now();
        wait_until(nothing, 10, std::chrono::milliseconds(100));
        const double seconds = milliseconds_between(started, Clock::now()) / 1000;
        percents.push_back(100.0 * static_cast<double>(cpu_ticks(daemon) - before) /
                           (static_cast<double>(ticks_per_second) * seconds));
    }
    const double checks_per_second =
        static_cast<double>(server.answered() - answered_before) / (windows * 10.0);

    for (const std::string& n : names) m_files.erase(n);
    wait_deployed(commit("bench: no more checked units").commit, timeout);

    const std::string method = std::to_string(units) +
                               " units (sleep) with HealthCheckURL= to one local HTTP server, interval 1 s; "
                               "gitvisord's utime+stime from /proc/PID/stat over " +
                               std::to_string(windows) + " windows of 10 s, as % of one core";
    add({"health_checks_cpu_percent", thousands(units) + " units HTTP-checked every 1 s: gitvisord CPU, median",
         median(percents), "%", 5.0, percents, method});
    const std::vector<double> rate = {checks_per_second};
    add({"health_checks_per_second", "  checks answered per second", checks_per_second, "/s", std::nullopt, rate,
         "requests the local HTTP server answered during the windows, per second"});
}

void Bench::metrics_render() {
    const int units = m_options.metrics_units;
    std::vector<std::string> names;
    char name[64];
    for (int i = 0; i < units; ++i) {
        std::snprintf(name, sizeof name, "metered-%04d.service", i);
        names.emplace_back(name);
        m_files[name] = sleeper("");
    }
    const double timeout = 120 + units * 0.05;
    wait_deployed(commit("bench: " + thousands(units) + " units for /metrics").commit, timeout);

    std::vector<double> samples;
    size_t bytes = 0;
    for (int i = -m_options.warmup; i < m_options.scrapes; ++i) {
        const auto started = Clock::now();
        bytes = scrape(m_options.http_port);
        const double ms = milliseconds_between(started, Clock::now());
        if (i >= 0) samples.push_back(ms);
        pause_for(std::chrono::milliseconds(20));
    }

    for (const std::string& n : names) m_files.erase(n);
    wait_deployed(commit("bench: no more metered units").commit, timeout);

    const std::string method = "GET /metrics over a new loopback connection, request sent to last byte read, with " +
                               thousands(units) + " running units (cgroup memory, CPU and tasks read per unit); " +
                               std::to_string(bytes / 1024) + " KiB per answer";
    add({"metrics_" + std::to_string(units) + "_units_p50_ms",
         "GET /metrics with " + thousands(units) + " units, median (" + std::to_string(m_options.scrapes) + ")",
         median(samples), "ms", 20.0, samples, method});
    add({"metrics_" + std::to_string(units) + "_units_max_ms", "  max", percentile(samples, 100), "ms", std::nullopt,
         samples, "the slowest of the same requests"});
}

}  // namespace gitvisor::bench
