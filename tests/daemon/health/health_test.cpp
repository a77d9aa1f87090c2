// Health checks: the HTTP and TCP probes against real sockets, and the monitor's schedule and counting.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "daemon/health/health_check.h"
#include "daemon/health/health_monitor.h"
#include "unitfile/unit_loader.h"

using namespace gitvisor::daemon;
using namespace std::chrono_literals;

namespace {

// A listening socket on 127.0.0.1 (a free port), closed on destruction.
struct Listener {
    int fd = -1;
    uint16_t port = 0;
    Listener() {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(listen(fd, 64) == 0);
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~Listener() { close(fd); }
};

// A port nothing listens on: bound and closed again.
uint16_t closed_port() {
    Listener l;
    return l.port;
}

// Accepts one connection on `listener` within `wait_ms` and reads its request head: the connection (-1 when
// none came) and the head.
std::pair<int, std::string> accept_request(const Listener& listener, int wait_ms) {
    pollfd p{listener.fd, POLLIN, 0};
    if (poll(&p, 1, wait_ms) <= 0) return {-1, ""};
    const int c = accept(listener.fd, nullptr, nullptr);
    if (c < 0) return {-1, ""};
    char buffer[4096];
    std::string request;
    while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = read(c, buffer, sizeof buffer);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
    }
    return {c, request};
}

// Answers every HTTP request on its own thread with `status_line` until destroyed.
struct HttpResponder {
    Listener listener;
    std::string status_line;
    std::atomic<bool> quit{false};
    std::atomic<int> requests{0};
    std::thread thread;
    explicit HttpResponder(std::string status) : status_line(std::move(status)) {
        thread = std::thread([this] {
            while (!quit) {
                const int c = accept_request(listener, 50).first;
                if (c < 0) continue;
                ++requests;
                const std::string body = "ok\n";
                const std::string answer = "HTTP/1.1 " + status_line + "\r\nContent-Length: " +
                                           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
                (void)write(c, answer.data(), answer.size());
                close(c);
            }
        });
    }
    ~HttpResponder() {
        quit = true;
        thread.join();
    }
    std::string url(const std::string& path = "/healthz") const {
        return "http://127.0.0.1:" + std::to_string(listener.port) + path;
    }
};

gitvisor::unitfile::Unit load(const std::string& text) {
    gitvisor::unitfile::SpecifierContext context;
    return gitvisor::unitfile::load_unit("web.service", {"web.service", text}, {}, context).unit;
}

}  // namespace

TEST_CASE("a unit's health check comes from its [X-Gitvisor] settings", "[health]") {
    const HealthSpec none = health_spec_of(load("[Service]\nExecStart=/bin/true\n"));
    CHECK_FALSE(none.enabled());
    const HealthSpec url = health_spec_of(load("[Service]\nExecStart=/bin/true\n[X-Gitvisor]\n"
                                               "HealthCheckURL=http://127.0.0.1:8080/\nHealthCheckInterval=2s\n"
                                               "HealthCheckRetries=2\nHealthCheckStartPeriod=10s\n"));
    CHECK(url.kind == HealthSpec::Kind::Url);
    CHECK(url.target == "http://127.0.0.1:8080/");
    CHECK(url.interval_usec == 2'000'000);
    CHECK(url.timeout_usec == 5'000'000);
    CHECK(url.retries == 2);
    CHECK(url.start_period_usec == 10'000'000);
    const HealthSpec exec =
        health_spec_of(load("[Service]\nExecStart=/bin/true\n[X-Gitvisor]\nHealthCheckExec=/bin/true\n"));
    CHECK(exec.kind == HealthSpec::Kind::Exec);
    CHECK(exec.interval_usec == 30'000'000);
    CHECK(exec.retries == 3);
}

TEST_CASE("an HTTP check is healthy on 2xx and says why otherwise", "[health]") {
    {
        HttpResponder ok("204 No Content");
        const CheckOutcome o = check_http(ok.url(), 2'000'000);
        CHECK(o.healthy);
        CHECK(o.detail == "HTTP 204 No Content");
    }
    {
        HttpResponder bad("503 Service Unavailable");
        const CheckOutcome o = check_http(bad.url("/deep?x=1"), 2'000'000);
        CHECK_FALSE(o.healthy);
        CHECK(o.detail == "HTTP 503 Service Unavailable");
    }
    const CheckOutcome refused = check_http("http://127.0.0.1:" + std::to_string(closed_port()) + "/", 2'000'000);
    CHECK_FALSE(refused.healthy);
    CHECK(refused.detail == "connection refused");
    // Accepted by the kernel, never answered: the timeout ends it.
    Listener silent;
    const auto started = std::chrono::steady_clock::now();
    const CheckOutcome slow = check_http("http://127.0.0.1:" + std::to_string(silent.port) + "/", 300'000);
    CHECK_FALSE(slow.healthy);
    CHECK(slow.detail == "timed out after 300 ms");
    CHECK(std::chrono::steady_clock::now() - started < 5s);
}

namespace {

// Accepts one connection at a time and answers each with the next of `answers`, written in pieces of
// `piece` bytes (0: at once; "" closes without a word); keeps what each request's head said.
struct ScriptedServer {
    Listener listener;
    std::vector<std::string> answers;
    size_t piece;
    std::vector<std::string> requests;
    std::thread thread;
    ScriptedServer(std::vector<std::string> script, size_t piece_size) : answers(std::move(script)), piece(piece_size) {
        thread = std::thread([this] {
            for (const std::string& answer : answers) {
                const auto [c, request] = accept_request(listener, 5000);
                if (c < 0) return;
                requests.push_back(request);
                for (size_t at = 0; at < answer.size();) {
                    const size_t n = piece == 0 ? answer.size() - at : std::min(piece, answer.size() - at);
                    if (send(c, answer.data() + at, n, MSG_NOSIGNAL) <= 0) break;
                    at += n;
                    if (piece != 0) std::this_thread::sleep_for(2ms);
                }
                close(c);
            }
        });
    }
    ~ScriptedServer() { done(); }
    // Waits until every answer was given (or the server gave up).
    void done() {
        if (thread.joinable()) thread.join();
    }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(listener.port) + path; }
};

}  // namespace

TEST_CASE("an HTTP check sends the path and Host, and reads answers in pieces, without a reason or endless",
          "[health]") {
    const std::string big(200 * 1024, 'x');  // more than the check reads
    ScriptedServer server({"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n", "HTTP/1.0 200\r\n\r\n",
                           "HTTP/1.1 200 OK\r\n\r\n" + big, "", "SSH-2.0-OpenSSH_9.2\r\n",
                           "HTTP/1.1 301 Moved Permanently\r\nLocation: /elsewhere\r\n\r\n"},
                          0);
    const CheckOutcome first = check_http(server.url("/healthz?deep=1#fragment"), 2'000'000);
    CHECK(first.healthy);
    CHECK(first.detail == "HTTP 200 OK");
    const CheckOutcome bare = check_http(server.url(""), 2'000'000);
    CHECK(bare.healthy);
    CHECK(bare.detail == "HTTP 200");
    const CheckOutcome endless = check_http(server.url("/big"), 2'000'000);
    CHECK(endless.healthy);
    const CheckOutcome silent = check_http(server.url("/"), 2'000'000);
    CHECK_FALSE(silent.healthy);
    CHECK(silent.detail == "the connection closed without an answer");
    const CheckOutcome ssh = check_http(server.url("/"), 2'000'000);
    CHECK_FALSE(ssh.healthy);
    CHECK(ssh.detail == "not an HTTP answer");
    const CheckOutcome moved = check_http(server.url("/"), 2'000'000);
    CHECK_FALSE(moved.healthy);
    CHECK(moved.detail == "HTTP 301 Moved Permanently");
    server.done();
    REQUIRE(server.requests.size() == 6);
    const std::string port = std::to_string(server.listener.port);
    CHECK(server.requests[0].rfind("GET /healthz?deep=1 HTTP/1.1\r\n", 0) == 0);
    CHECK(server.requests[0].find("\r\nHost: 127.0.0.1:" + port + "\r\n") != std::string::npos);
    CHECK(server.requests[0].find("\r\nUser-Agent: gitvisor-health-check\r\n") != std::string::npos);
    CHECK(server.requests[1].rfind("GET / HTTP/1.1\r\n", 0) == 0);

    // A status line that arrives a few bytes at a time.
    ScriptedServer slow({"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"}, 3);
    const CheckOutcome pieces = check_http(slow.url("/"), 2'000'000);
    CHECK_FALSE(pieces.healthy);
    CHECK(pieces.detail == "HTTP 503 Service Unavailable");
}

TEST_CASE("an HTTP check reaches an IPv6 address and a host name", "[health]") {
    const int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 8) != 0) {
        if (fd >= 0) close(fd);
        WARN("no IPv6 loopback on this machine: the [::1] case is not run");
    } else {
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        std::thread answer([fd] {
            const int c = accept(fd, nullptr, nullptr);
            char buffer[4096];
            (void)!read(c, buffer, sizeof buffer);
            const char ok[] = "HTTP/1.1 200 OK\r\n\r\n";
            (void)!write(c, ok, sizeof ok - 1);
            close(c);
        });
        const CheckOutcome v6 = check_http("http://[::1]:" + std::to_string(ntohs(a.sin6_port)) + "/", 2'000'000);
        answer.join();
        close(fd);
        CHECK(v6.healthy);
        CHECK(v6.detail == "HTTP 200 OK");
    }
    HttpResponder named("200 OK");
    const CheckOutcome local = check_http("http://localhost:" + std::to_string(named.listener.port) + "/", 2'000'000);
    CHECK(local.healthy);
    const CheckOutcome unresolved = check_http("http://no-such-host.invalid/", 1'000'000);
    CHECK_FALSE(unresolved.healthy);
    CHECK(unresolved.detail.find("cannot resolve 'no-such-host.invalid'") == 0);
}

TEST_CASE("a TCP check passes when the port accepts and fails when it is closed", "[health]") {
    Listener open;
    const CheckOutcome o = check_tcp("127.0.0.1:" + std::to_string(open.port), 1'000'000);
    CHECK(o.healthy);
    const CheckOutcome c = check_tcp("127.0.0.1:" + std::to_string(closed_port()), 1'000'000);
    CHECK_FALSE(c.healthy);
    CHECK(c.detail == "connection refused");
    const CheckOutcome v6 = check_tcp("[::1]:" + std::to_string(closed_port()), 1'000'000);
    CHECK_FALSE(v6.healthy);
    const CheckOutcome unresolved = check_tcp("no-such-host.invalid:80", 1'000'000);
    CHECK_FALSE(unresolved.healthy);
    CHECK(unresolved.detail.find("cannot resolve 'no-such-host.invalid'") == 0);
}

namespace {

// Collects the monitor's transitions.
struct Transitions {
    std::mutex mutex;
    std::vector<std::string> seen;
    void add(const std::string& unit, Health before, Health after) {
        std::lock_guard lock(mutex);
        seen.push_back(unit + ": " + to_string(before) + " -> " + to_string(after));
    }
    std::vector<std::string> get() {
        std::lock_guard lock(mutex);
        return seen;
    }
};

HealthSpec fast_spec(int retries) {
    HealthSpec spec;
    spec.kind = HealthSpec::Kind::Tcp;
    spec.interval_usec = 20'000;
    spec.timeout_usec = 100'000;
    spec.retries = retries;
    return spec;
}

}  // namespace

TEST_CASE("the monitor turns a passing unit healthy and a failing one unhealthy after its retries", "[health]") {
    Transitions transitions;
    std::atomic<bool> web_up{true};
    std::atomic<int> db_checks{0};
    HealthMonitor monitor(
        [&](const std::string& unit, const HealthSpec&) {
            if (unit == "db.service") ++db_checks;
            return unit == "web.service" && web_up ? CheckOutcome{true, "up"} : CheckOutcome{false, "down"};
        },
        [&](const std::string& unit, const HealthStatus& status, Health before) {
            transitions.add(unit, before, status.health);
        });
    monitor.begin("web.service", fast_spec(3));
    monitor.begin("db.service", fast_spec(3));
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    CHECK(monitor.wait_settled("web.service", deadline) == Health::Healthy);
    CHECK(monitor.wait_settled("db.service", deadline) == Health::Unhealthy);
    const HealthStatus db = monitor.status("db.service");
    CHECK(db.failures == 3);
    CHECK(db.detail == "down");
    CHECK(db.checks >= 3);
    // Unhealthy: checked no more until its next start.
    const int checks = db_checks;
    std::this_thread::sleep_for(100ms);
    CHECK(db_checks == checks);

    // A healthy unit stays healthy through fewer failures than its retries, then turns unhealthy.
    web_up = false;
    CHECK(monitor.wait_settled("web.service", deadline) == Health::Healthy);  // settled: returns at once
    while (monitor.status("web.service").health == Health::Healthy && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    CHECK(monitor.status("web.service").health == Health::Unhealthy);
    CHECK(monitor.status("web.service").failures == 3);

    monitor.end("db.service");
    CHECK(monitor.status("db.service").health == Health::None);
    CHECK_FALSE(monitor.watched("db.service"));
    const auto seen = transitions.get();
    CHECK(std::count(seen.begin(), seen.end(), "web.service: none -> starting") == 1);
    CHECK(std::count(seen.begin(), seen.end(), "web.service: starting -> healthy") == 1);
    CHECK(std::count(seen.begin(), seen.end(), "web.service: healthy -> unhealthy") == 1);
    CHECK(std::count(seen.begin(), seen.end(), "db.service: starting -> unhealthy") == 1);
    CHECK(std::count(seen.begin(), seen.end(), "db.service: unhealthy -> none") == 1);
}

TEST_CASE("failed checks in the start period do not count, and a pass ends it early", "[health]") {
    std::atomic<int> checks{0};
    std::atomic<bool> up{false};
    HealthMonitor monitor(
        [&](const std::string&, const HealthSpec&) {
            ++checks;
            return up ? CheckOutcome{true, "up"} : CheckOutcome{false, "down"};
        },
        [](const std::string&, const HealthStatus&, Health) {});
    HealthSpec spec = fast_spec(1);
    spec.interval_usec = 10'000;
    spec.start_period_usec = 60'000'000;
    monitor.begin("slow.service", spec);
    while (checks < 5) std::this_thread::sleep_for(5ms);
    CHECK(monitor.status("slow.service").health == Health::Starting);
    CHECK(monitor.status("slow.service").failures == 0);
    up = true;
    CHECK(monitor.wait_settled("slow.service", std::chrono::steady_clock::now() + 10s) == Health::Healthy);
}

TEST_CASE("while starting, a failure counts at most once per interval", "[health]") {
    std::atomic<int> checks{0};
    HealthMonitor monitor(
        [&](const std::string&, const HealthSpec&) {
            ++checks;
            return CheckOutcome{false, "down"};
        },
        [](const std::string&, const HealthStatus&, Health) {});
    HealthSpec spec = fast_spec(2);
    spec.interval_usec = 60'000'000;  // checked every second while starting; counted once a minute
    monitor.begin("web.service", spec);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (checks < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    CHECK(checks >= 3);
    CHECK(monitor.status("web.service").failures == 1);
    CHECK(monitor.status("web.service").health == Health::Starting);
}

TEST_CASE("a restart begins anew and a check of the old start no longer counts", "[health]") {
    std::atomic<bool> release{false};
    std::atomic<int> calls{0};
    std::atomic<bool> first_answered{false};
    HealthMonitor monitor(
        [&](const std::string&, const HealthSpec&) {
            if (++calls == 1) {
                while (!release) std::this_thread::sleep_for(1ms);  // the first check hangs, then fails
                first_answered = true;
                return CheckOutcome{false, "down"};
            }
            return CheckOutcome{true, "up"};
        },
        [](const std::string&, const HealthStatus&, Health) {}, 2);
    HealthSpec strict = fast_spec(1);  // one counted failure would make it unhealthy
    strict.interval_usec = 60'000'000;
    monitor.begin("web.service", strict);
    while (calls < 1) std::this_thread::sleep_for(1ms);
    monitor.begin("web.service", strict);  // restarted while the first check hangs
    REQUIRE(monitor.wait_settled("web.service", std::chrono::steady_clock::now() + 10s) == Health::Healthy);
    release = true;
    while (!first_answered) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);
    // The old start's failure arrived after the new start's pass, and did not count.
    CHECK(monitor.status("web.service").health == Health::Healthy);
    CHECK(monitor.status("web.service").failures == 0);
    monitor.set_draining("web.service");
    CHECK(monitor.status("web.service").health == Health::Draining);
}

TEST_CASE("hundreds of units are checked at once on a few workers", "[health]") {
    std::atomic<int> checks{0};
    HealthMonitor monitor(
        [&](const std::string&, const HealthSpec&) {
            ++checks;
            std::this_thread::sleep_for(1ms);
            return CheckOutcome{true, "up"};
        },
        [](const std::string&, const HealthStatus&, Health) {}, 8);
    for (int i = 0; i < 500; ++i) monitor.begin("u" + std::to_string(i) + ".service", fast_spec(3));
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (int i = 0; i < 500; ++i)
        REQUIRE(monitor.wait_settled("u" + std::to_string(i) + ".service", deadline) == Health::Healthy);
    CHECK(checks >= 500);
}

TEST_CASE("checks that wait for their answer are spread over the workers", "[health]") {
    std::atomic<int> running{0};
    std::atomic<int> most{0};
    HealthMonitor monitor(
        [&](const std::string&, const HealthSpec&) {
            const int now = ++running;
            for (int seen = most; now > seen && !most.compare_exchange_weak(seen, now);) {
            }
            std::this_thread::sleep_for(300ms);
            --running;
            return CheckOutcome{true, "slow but up"};
        },
        [](const std::string&, const HealthStatus&, Health) {}, 8);
    for (int i = 0; i < 16; ++i) monitor.begin("slow" + std::to_string(i) + ".service", fast_spec(3));
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (int i = 0; i < 16; ++i)
        REQUIRE(monitor.wait_settled("slow" + std::to_string(i) + ".service", deadline) == Health::Healthy);
    // One worker alone would have run them one after the other.
    CHECK(most >= 4);
}

TEST_CASE("an https check is healthy against a server with a self-signed certificate", "[health]") {
    if (std::system("command -v openssl >/dev/null && command -v python3 >/dev/null") != 0) {
        WARN("skipped: needs openssl and python3 for a TLS server");
        return;
    }
    char dir_template[] = "/tmp/gitvisor-https-XXXXXX";
    REQUIRE(mkdtemp(dir_template) != nullptr);
    const std::string dir = dir_template;
    const uint16_t port = closed_port();
    const std::string server =
        "import http.server, ssl\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200 if self.path == '/ok' else 500)\n"
        "        self.send_header('Content-Length', '0')\n"
        "        self.end_headers()\n"
        "    def log_message(self, *a):\n"
        "        pass\n"
        "s = http.server.HTTPServer(('127.0.0.1', " + std::to_string(port) + "), H)\n"
        "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
        "c.load_cert_chain('" + dir + "/cert.pem', '" + dir + "/key.pem')\n"
        "s.socket = c.wrap_socket(s.socket, server_side=True)\n"
        "s.serve_forever()\n";
    {
        std::ofstream(dir + "/server.py") << server;
    }
    REQUIRE(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " + dir +
                         "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1")
                            .c_str()) == 0);
    const pid_t pid = fork();
    if (pid == 0) {
        execlp("python3", "python3", (dir + "/server.py").c_str(), nullptr);
        _exit(127);
    }
    const std::string base = "https://127.0.0.1:" + std::to_string(port);
    CheckOutcome ok;
    for (int i = 0; i < 100 && !ok.healthy; ++i) {
        ok = check_http(base + "/ok", 2'000'000);
        if (!ok.healthy) std::this_thread::sleep_for(50ms);
    }
    const CheckOutcome bad = check_http(base + "/broken", 2'000'000);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    std::filesystem::remove_all(dir);
    CHECK(ok.healthy);
    CHECK(ok.detail == "HTTP 200 OK");
    CHECK_FALSE(bad.healthy);
    CHECK(bad.detail == "HTTP 500 Internal Server Error");
}
