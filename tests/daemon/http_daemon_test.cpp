// The HTTP endpoint of the real daemon (DESIGN §8): every endpoint answers what the CLI answers, /metrics
// passes `promtool check metrics`, a webhook needs the token and then deploys, /ready follows health and
// draining, and garbage on the socket leaves the daemon serving.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "../git_daemon_support.h"
#include "daemon_fixture.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

struct Http {
    int status = 0;
    std::string body;
};

// curl, with the status code on the last line.
Http curl(const DaemonFixture& f, const std::string& url, const std::string& extra = "") {
    const CommandResult r = run("curl -s -m 10 -w '\\n%{http_code}' " + extra + " " + shell_quote(url), f.dir.path());
    Http h;
    const size_t nl = r.out.rfind('\n');
    if (nl == std::string::npos) return h;
    h.body = r.out.substr(0, nl);
    h.status = std::atoi(r.out.c_str() + nl + 1);
    return h;
}

Poco::Dynamic::Var parse(const std::string& text) {
    Poco::JSON::Parser parser;
    return parser.parse(text);
}

// A TCP connection to 127.0.0.1:port, kept open until closed.
int connect_to(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

std::string python_server(const DaemonFixture& f, int port) {
    return "/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory " + (f.dir / "www").string() + " " +
           std::to_string(port);
}

}  // namespace

TEST_CASE("every HTTP endpoint answers what the CLI answers, and /metrics passes promtool", "[daemon][http]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    const int web_port = free_port();
    const int http_port = free_port();
    f.dir.write("www/ok", "fine\n");
    f.write_unit("web.service", "[Unit]\nDescription=web \"quoted\"\n[Service]\nExecStart=" + python_server(f, web_port) +
                                    "\n[X-Gitvisor]\nHealthCheckURL=http://127.0.0.1:" + std::to_string(web_port) +
                                    "/ok\nHealthCheckInterval=1s\n");
    f.write_unit("worker.service", "[Service]\nExecStart=/bin/sleep 1000\n");
    f.commit("web and worker");
    f.start_daemon("--http 127.0.0.1:" + std::to_string(http_port));
    const std::string base = "http://127.0.0.1:" + std::to_string(http_port);
    REQUIRE(eventually([&] { return f.status_json("web") && f.status_json("web")->getValue<std::string>("health") == "healthy"; }, 20));

    const Http healthz = curl(f, base + "/healthz");
    CHECK(healthz.status == 200);

    // /v1/units: the units `list --json` prints, field for field (but the figures that move).
    const Http units = curl(f, base + "/v1/units");
    REQUIRE(units.status == 200);
    const auto from_http = parse(units.body).extract<Poco::JSON::Object::Ptr>()->getArray("units");
    const auto from_cli = f.cli_json("list").extract<Poco::JSON::Array::Ptr>();
    REQUIRE(from_http->size() == 2);
    REQUIRE(from_cli->size() == 2);
    for (size_t i = 0; i < 2; ++i)
        for (const char* key : {"name", "state", "sub_state", "main_pid", "commit", "spec_hash", "health", "description"})
            CHECK(from_http->getObject(i)->get(key).toString() == from_cli->getObject(i)->get(key).toString());

    const Http web = curl(f, base + "/v1/units/web");
    REQUIRE(web.status == 200);
    const auto web_http = parse(web.body).extract<Poco::JSON::Object::Ptr>()->getObject("unit");
    const auto web_cli = f.status_json("web");
    for (const char* key : {"name", "state", "main_pid", "ns_pid", "exec_pid", "cgroup", "commit", "health", "invocation"})
        CHECK(web_http->get(key).toString() == web_cli->get(key).toString());
    CHECK_FALSE(parse(web.body).extract<Poco::JSON::Object::Ptr>()->has("log"));  // logs are not for everyone
    CHECK(curl(f, base + "/v1/units/nope").status == 404);

    const Http deployments = curl(f, base + "/v1/deployments?n=5");
    REQUIRE(deployments.status == 200);
    const auto d_http = parse(deployments.body).extract<Poco::JSON::Object::Ptr>()->getArray("deployments");
    const auto d_cli = f.cli_json("history -n 5").extract<Poco::JSON::Array::Ptr>();
    REQUIRE(d_http->size() == d_cli->size());
    for (size_t i = 0; i < d_http->size(); ++i) {
        std::ostringstream a, b;
        d_http->getObject(i)->stringify(a);
        d_cli->getObject(i)->stringify(b);
        CHECK(a.str() == b.str());
    }

    const Http ready = curl(f, base + "/v1/units/web/ready");
    CHECK(ready.status == 200);
    CHECK(ready.body.find("\"health\":\"healthy\"") != std::string::npos);
    CHECK(curl(f, base + "/v1/units/worker.service/ready").status == 200);  // no check: ready when active

    const Http metrics = curl(f, base + "/metrics");
    REQUIRE(metrics.status == 200);
    CHECK(metrics.body.find("gitvisor_unit_state{unit=\"web.service\",state=\"active\"} 1") != std::string::npos);
    CHECK(metrics.body.find("gitvisor_unit_health{unit=\"web.service\",health=\"healthy\"} 1") != std::string::npos);
    CHECK(metrics.body.find("gitvisor_deployments_total{result=\"applied\"} 1") != std::string::npos);
    CHECK(metrics.body.find("gitvisor_deployed_commit_info{commit=\"" + f.tip() + "\"") != std::string::npos);
    if (run("command -v promtool", f.dir.path()).exit_code != 0) {
        WARN("promtool is not installed (Debian package prometheus): /metrics not checked by it");
    } else {
        f.dir.write("metrics.txt", metrics.body);
        const CommandResult promtool = run("promtool check metrics < metrics.txt", f.dir.path());
        INFO(promtool.out << promtool.err);
        CHECK(promtool.exit_code == 0);
    }

    // Garbage and a half-sent request leave it serving.
    const int garbage = connect_to(http_port);
    REQUIRE(garbage >= 0);
    const std::string junk = "\x01\x02 NOT HTTP \r\n\r\n";
    (void)write(garbage, junk.data(), junk.size());
    const int partial = connect_to(http_port);
    (void)write(partial, "GET /metr", 9);
    CHECK(curl(f, base + "/healthz").status == 200);
    close(garbage);
    close(partial);
    CHECK(curl(f, base + "/v1/nothing").status == 404);
}

TEST_CASE("a webhook without the token gets 401, with it the daemon fetches and deploys", "[daemon][http]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    const int http_port = free_port();
    f.dir.write("token", "s3cret-token\n");
    f.write_unit("a.service", "[Service]\nExecStart=/bin/sleep 1000\n");
    f.commit("a");
    // Remote mode with a fetch timer too slow to matter: only the webhook brings the new commit.
    f.launch_daemon("--remote " + shell_quote("file://" + f.repo) + " --fetch-interval 3600 --state-dir " +
                    shell_quote((f.dir / "state").string()) + " --run-dir " + shell_quote((f.dir / "run").string()) +
                    " " + f.standard_flags() + " --http 127.0.0.1:" + std::to_string(http_port) +
                    " --http-token-file " + shell_quote((f.dir / "token").string()));
    REQUIRE(eventually([&] { return f.state("a") == "active/running"; }, 20));
    f.write_unit("b.service", "[Service]\nExecStart=/bin/sleep 1000\n");
    f.commit("b");
    const std::string url = "http://127.0.0.1:" + std::to_string(http_port) + "/v1/sync";
    CHECK(curl(f, url, "-X POST").status == 401);
    CHECK(curl(f, url, "-X POST -H 'Authorization: Bearer wrong'").status == 401);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(f.state("b") == "none");
    const Http synced = curl(f, url, "-X POST -H 'Authorization: Bearer s3cret-token' -H 'Content-Type: application/json' "
                                     "-d '{\"ref\":\"refs/heads/main\"}'");
    // Answered at once (git servers do not wait for deploys); the fetch and the deploy follow.
    CHECK(synced.status == 200);
    CHECK(synced.body.find("\"queued\":true") != std::string::npos);
    CHECK(eventually([&] { return f.state("b") == "active/running"; }, 20));
}

TEST_CASE("a stop drains DrainPorts= first, and /ready answers 503 meanwhile", "[daemon][http][drain]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    const int web_port = free_port();
    const int http_port = free_port();
    f.dir.write("www/ok", "fine\n");
    f.write_unit("web.service", "[Service]\nExecStart=" + python_server(f, web_port) + "\n[X-Gitvisor]\nDrainPorts=" +
                                    std::to_string(web_port) + "\nDrainTimeoutSec=20s\n");
    f.commit("web");
    f.start_daemon("--http 127.0.0.1:" + std::to_string(http_port));
    const std::string ready = "http://127.0.0.1:" + std::to_string(http_port) + "/v1/units/web/ready";
    REQUIRE(eventually([&] { return curl(f, ready).status == 200; }, 20));
    REQUIRE(eventually([&] { const int fd = connect_to(web_port); if (fd >= 0) close(fd); return fd >= 0; }, 20));
    const pid_t pid = f.main_pid("web");

    const int client = connect_to(web_port);  // an established connection the stop must wait for
    REQUIRE(client >= 0);
    const std::string sock = (f.dir / "run/control.sock").string();
    std::thread stopper([&] { (void)f.cli("stop web"); });
    REQUIRE(eventually([&] { return curl(f, ready).body.find("\"health\":\"draining\"") != std::string::npos; }, 10));
    CHECK(curl(f, ready).status == 503);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK(process_alive(pid));  // still serving its connection
    close(client);
    stopper.join();
    CHECK_FALSE(process_alive(pid));
    CHECK(f.cli("events -n 100").out.find("drained 1 connection(s) in") != std::string::npos);
    CHECK(curl(f, ready).status == 503);
}
