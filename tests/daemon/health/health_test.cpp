// Health checks: the HTTP and TCP probes against real sockets, and the monitor's schedule and counting.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
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
                pollfd p{listener.fd, POLLIN, 0};
                if (poll(&p, 1, 50) <= 0) continue;
                const int c = accept(listener.fd, nullptr, nullptr);
                if (c < 0) continue;
                char buffer[4096];
                std::string request;
                while (request.find("\r\n\r\n") == std::string::npos) {
                    const ssize_t n = read(c, buffer, sizeof buffer);
                    if (n <= 0) break;
                    request.append(buffer, static_cast<size_t>(n));
                }
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
    HealthMonitor monitor(
        [&](const std::string&, const HealthSpec&) {
            if (++calls == 1)
                while (!release) std::this_thread::sleep_for(1ms);  // the first check hangs
            return CheckOutcome{false, "down"};
        },
        [](const std::string&, const HealthStatus&, Health) {}, 2);
    monitor.begin("web.service", fast_spec(1));
    while (calls < 1) std::this_thread::sleep_for(1ms);
    HealthSpec slow = fast_spec(1);
    slow.start_period_usec = 60'000'000;
    monitor.begin("web.service", slow);  // restarted while the first check hangs
    release = true;
    std::this_thread::sleep_for(100ms);
    CHECK(monitor.status("web.service").health == Health::Starting);
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
