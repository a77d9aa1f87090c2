#include "daemon/http/http_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace gitvisor::daemon;
using Poco::JSON::Object;

namespace {

constexpr const char* kToken = "s3cret-token";
constexpr const char* kMetricsText = "# HELP up Whether it is up.\n# TYPE up gauge\nup 1\n";

Object::Ptr object(std::initializer_list<std::pair<std::string, Poco::Dynamic::Var>> members) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const auto& [key, value] : members) o->set(key, value);
    return o;
}

std::string to_json(const Object::Ptr& o) {
    std::ostringstream out;
    o->stringify(out);
    return out.str();
}

Object::Ptr parse(const std::string& text) {
    INFO(text);
    Object::Ptr o;
    REQUIRE_NOTHROW(o = Poco::JSON::Parser().parse(text).extract<Object::Ptr>());
    return o;
}

// The daemon's side, canned: answers by request and records what it was asked.
class FakeDaemon {
public:
    Object::Ptr control(const Object::Ptr& request, bool authorised) {
        {
            std::lock_guard lock(m_mutex);
            m_calls.emplace_back(to_json(request), authorised);
        }
        const std::string cmd = request->optValue<std::string>("cmd", "");
        const std::string unit = request->optValue<std::string>("unit", "");
        if (cmd == "ping") {
            if (!healthy)
                return object({{"ok", false}, {"error", "the state database is locked"}, {"exit_code", 1}});
            return object({{"ok", true}, {"isolation", "pid namespace"}});
        }
        if (cmd == "list")
            return object({{"ok", true}, {"units", Poco::JSON::Array::Ptr(new Poco::JSON::Array)}});
        if (cmd == "history") return object({{"ok", true}, {"n", request->get("n")}});
        if (cmd == "sync") return object({{"ok", true}, {"queued", true}});
        if (unit == "web.service") return object({{"ok", true}, {"unit", object({{"name", unit}})}});
        if (unit == "idle.service") return object({{"ok", false}, {"error", "inactive"}, {"exit_code", 3}});
        if (unit == "gone.service")
            return object({{"ok", false}, {"error", "no such unit"}, {"exit_code", 4}});
        if (unit == "secret.service")
            return object({{"ok", false}, {"error", "permission denied"}, {"exit_code", 5}});
        if (unit == "usage.service") return object({{"ok", false}, {"error", "bad request"}, {"code", 2}});
        if (unit == "broken.service") return object({{"ok", false}, {"error", "it broke"}, {"exit_code", 1}});
        if (unit == "null.service") return nullptr;
        if (unit == "throws.service") throw std::runtime_error("the handler failed");
        return object({{"ok", false}, {"error", "unexpected request"}, {"exit_code", 1}});
    }

    HttpHandlers handlers() {
        HttpHandlers h;
        h.control = [this](const Object::Ptr& request, bool authorised) {
            return control(request, authorised);
        };
        h.metrics = [this] {
            if (metrics_throw) throw std::runtime_error("metrics failed");
            return std::string(kMetricsText);
        };
        h.ready = [](const std::string& unit) {
            if (unit == "web.service") return ReadyAnswer{200, "active", "healthy"};
            if (unit == "db.service") return ReadyAnswer{503, "activating", "starting"};
            return ReadyAnswer{404, "", ""};
        };
        return h;
    }

    std::vector<std::pair<std::string, bool>> calls() {
        std::lock_guard lock(m_mutex);
        return m_calls;
    }

    std::atomic<bool> healthy = true;
    std::atomic<bool> metrics_throw = false;

private:
    std::mutex m_mutex;
    std::vector<std::pair<std::string, bool>> m_calls;
};

HttpOptions test_options() {
    HttpOptions o;
    o.address = "127.0.0.1:0";
    o.token = kToken;
    o.timeout_ms = 1000;
    return o;
}

// An endpoint on a free loopback port, stopped when the test ends (even a failed one).
struct Served {
    explicit Served(HttpOptions options = test_options()) {
        auto started = HttpEndpoint::start(std::move(options), daemon.handlers());
        INFO(started.error());
        REQUIRE(started);
        endpoint = std::move(*started);
    }
    uint16_t port() const { return endpoint->port(); }

    FakeDaemon daemon;
    std::unique_ptr<HttpEndpoint> endpoint;
};

struct Answer {
    int status = 0;
    std::string content_type;
    std::string body;
    Poco::Net::HTTPResponse response;
};

struct Request {
    std::string method = "GET";
    std::string uri;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool chunked = false;
};

Answer fetch(uint16_t port, const Request& r) {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(r.method, r.uri, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : r.headers) request.set(name, value);
    if (r.chunked)
        request.setChunkedTransferEncoding(true);
    else if (r.method == "POST" || !r.body.empty())
        request.setContentLength64(static_cast<int64_t>(r.body.size()));
    session.sendRequest(request) << r.body;
    Answer a;
    std::istream& in = session.receiveResponse(a.response);
    a.body.assign(std::istreambuf_iterator<char>(in), {});
    a.status = a.response.getStatus();
    a.content_type = a.response.getContentType();
    return a;
}

Answer get(uint16_t port, const std::string& uri) { return fetch(port, Request{"GET", uri, "", {}, false}); }

Answer sync(uint16_t port, std::vector<std::pair<std::string, std::string>> headers, std::string body = "") {
    return fetch(port, Request{"POST", "/v1/sync", std::move(body), std::move(headers), false});
}

std::pair<std::string, std::string> bearer(const std::string& token) {
    return {"Authorization", "Bearer " + token};
}

// An error answer: JSON {"ok":false,"error":"..."}.
void check_error(const Answer& a, int status) {
    INFO(a.body);
    CHECK(a.status == status);
    CHECK(a.content_type == "application/json");
    const Object::Ptr o = parse(a.body);
    CHECK_FALSE(o->getValue<bool>("ok"));
    CHECK_FALSE(o->getValue<std::string>("error").empty());
}

// A plain TCP client for what HTTPClientSession will not send; closes its socket when done.
class RawClient {
public:
    explicit RawClient(uint16_t port) {
        m_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(m_fd >= 0);
        timeval tv{10, 0};
        setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        const sockaddr_in addr = loopback(port);
        m_connect_errno =
            connect(m_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 ? 0 : errno;
    }
    ~RawClient() { close(m_fd); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    static sockaddr_in loopback(uint16_t port) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return addr;
    }

    int connect_errno() const { return m_connect_errno; }

    // False once the server has closed or reset the connection.
    bool send_all(const std::string& data) {
        for (size_t done = 0; done < data.size();) {
            const ssize_t n = ::send(m_fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            done += static_cast<size_t>(n);
        }
        return true;
    }

    // Everything until the server closes (or resets) the connection, or 10 s pass.
    std::string read_all() {
        std::string out;
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                m_reset = n < 0;
                return out;
            }
            out.append(buffer, static_cast<size_t>(n));
        }
    }
    bool reset() const { return m_reset; }
    int fd() const { return m_fd; }

private:
    int m_fd = -1;
    int m_connect_errno = 0;
    bool m_reset = false;
};

// What one recv() gives (the server's interim answer, before the request is complete).
std::string recv_some(RawClient& client, char* buffer, size_t size) {
    const ssize_t n = ::recv(client.fd(), buffer, size, 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

int status_line_code(const std::string& answer) {
    if (!answer.starts_with("HTTP/1.")) return 0;
    return std::stoi(answer.substr(9, 3));
}

std::string body_of(const std::string& answer) {
    const size_t end = answer.find("\r\n\r\n");
    return end == std::string::npos ? "" : answer.substr(end + 4);
}

// A request the server refuses in its head: a 4xx JSON answer or a closed connection, and it goes on serving.
void check_refused_head(uint16_t port, const std::string& request) {
    RawClient client(port);
    REQUIRE(client.connect_errno() == 0);
    client.send_all(request);  // may fail half way: the server does not read it all
    const std::string answer = client.read_all();
    INFO(answer.substr(0, 300));
    if (!answer.empty()) {
        const int status = status_line_code(answer);
        CHECK(status >= 400);
        CHECK(status < 500);
        CHECK_FALSE(parse(body_of(answer))->getValue<bool>("ok"));
    }
    CHECK(get(port, "/metrics").status == 200);
}

}  // namespace

TEST_CASE("GET /metrics answers the rendered text as Prometheus text 0.0.4", "[http]") {
    Served s;
    const Answer a = get(s.port(), "/metrics");
    CHECK(a.status == 200);
    CHECK(a.content_type == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(a.body == kMetricsText);
    CHECK(a.response.getContentLength64() == static_cast<int64_t>(a.body.size()));
    CHECK(s.daemon.calls().empty());

    const Answer head = fetch(s.port(), Request{"HEAD", "/metrics", "", {}, false});
    CHECK(head.status == 200);
    CHECK(head.body.empty());
}

TEST_CASE("GET /healthz pings the daemon", "[http]") {
    Served s;
    const Answer a = get(s.port(), "/healthz");
    CHECK(a.status == 200);
    CHECK(a.content_type == "application/json");
    CHECK(a.body == R"({"ok":true})");
    REQUIRE(s.daemon.calls().size() == 1);
    CHECK(s.daemon.calls()[0].first == R"({"cmd":"ping"})");

    s.daemon.healthy = false;
    const Answer down = get(s.port(), "/healthz");
    CHECK(down.status == 503);
    CHECK(parse(down.body)->getValue<std::string>("error") == "the state database is locked");
}

TEST_CASE("GET /v1/units and /v1/units/NAME ask for list and status", "[http]") {
    Served s;
    const Answer list = get(s.port(), "/v1/units");
    CHECK(list.status == 200);
    CHECK(list.content_type == "application/json");
    CHECK(parse(list.body)->getValue<bool>("ok"));

    const Answer web = get(s.port(), "/v1/units/web.service");
    CHECK(web.status == 200);
    CHECK(parse(web.body)->getObject("unit")->getValue<std::string>("name") == "web.service");

    get(s.port(), "/v1/units/job%40a.service");  // percent-encoded
    const auto calls = s.daemon.calls();
    REQUIRE(calls.size() == 3);
    CHECK(calls[0] == std::pair<std::string, bool>{R"({"cmd":"list"})", false});
    CHECK(calls[1] == std::pair<std::string, bool>{R"({"cmd":"status","unit":"web.service"})", false});
    CHECK(calls[2].first == R"({"cmd":"status","unit":"job@a.service"})");
}

TEST_CASE("a control answer's exit code gives the HTTP status", "[http]") {
    Served s;
    CHECK(get(s.port(), "/v1/units/idle.service").status == 200);  // exit code 3: still a status
    check_error(get(s.port(), "/v1/units/gone.service"), 404);
    check_error(get(s.port(), "/v1/units/secret.service"), 403);
    check_error(get(s.port(), "/v1/units/usage.service"), 400);  // "code", as the control socket writes it
    check_error(get(s.port(), "/v1/units/broken.service"), 500);
    check_error(get(s.port(), "/v1/units/null.service"), 500);
    // The answer is passed on as it is.
    CHECK(parse(get(s.port(), "/v1/units/gone.service").body)->getValue<std::string>("error") ==
          "no such unit");
}

TEST_CASE("GET /v1/units/NAME/ready answers the readiness status", "[http]") {
    Served s;
    const Answer ready = get(s.port(), "/v1/units/web.service/ready");
    CHECK(ready.status == 200);
    CHECK(ready.body == R"({"unit":"web.service","state":"active","health":"healthy","ready":true})");

    const Answer starting = get(s.port(), "/v1/units/db.service/ready");
    CHECK(starting.status == 503);
    CHECK(starting.body == R"({"unit":"db.service","state":"activating","health":"starting","ready":false})");

    const Answer missing = get(s.port(), "/v1/units/nope.service/ready");
    check_error(missing, 404);
    CHECK_FALSE(parse(missing.body)->getValue<bool>("ready"));
    CHECK(s.daemon.calls().empty());
}

TEST_CASE("GET /v1/deployments asks for history, 20 unless n says otherwise", "[http]") {
    Served s;
    CHECK(parse(get(s.port(), "/v1/deployments").body)->getValue<int>("n") == 20);
    CHECK(parse(get(s.port(), "/v1/deployments?n=5").body)->getValue<int>("n") == 5);
    CHECK(parse(get(s.port(), "/v1/deployments?n=10000").body)->getValue<int>("n") == 10000);
    const auto calls = s.daemon.calls();
    REQUIRE(calls.size() == 3);
    CHECK(calls[1].first == R"({"cmd":"history","n":5})");

    for (const char* bad : {"n=0", "n=-1", "n=abc", "n=", "n=10001", "n=5x", "n=99999999999999999999"}) {
        INFO(bad);
        check_error(get(s.port(), std::string("/v1/deployments?") + bad), 400);
    }
    CHECK(s.daemon.calls().size() == 3);
}

TEST_CASE("POST /v1/sync needs the bearer token", "[http][sync]") {
    Served s;
    SECTION("no token") {
        const Answer a = sync(s.port(), {});
        check_error(a, 401);
        CHECK(a.response.get("WWW-Authenticate", "").starts_with("Bearer"));
        CHECK(s.daemon.calls().empty());
    }
    SECTION("a wrong token, or the right one in another scheme") {
        for (const std::string header : {"Bearer wrong", "Bearer s3cret-token2", "Bearer s3cret-toke",
                                         "Basic s3cret-token", "Bearer", "s3cret-token"}) {
            INFO(header);
            const Answer a = sync(s.port(), {{"Authorization", header}});
            check_error(a, 401);
            CHECK(a.response.get("WWW-Authenticate", "").starts_with("Bearer"));
        }
        CHECK(s.daemon.calls().empty());
    }
    SECTION("the right token") {
        const Answer a = sync(s.port(), {bearer(kToken)});
        CHECK(a.status == 200);
        CHECK(parse(a.body)->getValue<bool>("queued"));
        CHECK(sync(s.port(), {{"Authorization", std::string("bearer  ") + kToken}}).status == 200);
        const auto calls = s.daemon.calls();
        REQUIRE(calls.size() == 2);
        CHECK(calls[0] == std::pair<std::string, bool>{R"({"cmd":"sync"})", true});
    }
    SECTION("the token proves the caller on reads too") {
        get(s.port(), "/v1/units");
        fetch(s.port(), Request{"GET", "/v1/units", "", {bearer(kToken)}, false});
        const auto calls = s.daemon.calls();
        REQUIRE(calls.size() == 2);
        CHECK_FALSE(calls[0].second);
        CHECK(calls[1].second);
    }
}

TEST_CASE("an empty token refuses every sync", "[http][sync]") {
    HttpOptions options = test_options();
    options.token = "";
    Served s(options);
    check_error(sync(s.port(), {{"Authorization", "Bearer "}}), 401);
    check_error(sync(s.port(), {{"Authorization", "Bearer"}}), 401);
    const Answer a = sync(s.port(), {bearer(kToken)});
    check_error(a, 401);
    CHECK(parse(a.body)->getValue<std::string>("error") == "sync over HTTP is off: gitvisord has no token");
    CHECK(s.daemon.calls().empty());
}

TEST_CASE("POST /v1/sync takes a push payload and ignores it", "[http][sync]") {
    Served s;
    const std::string payload = R"({"ref":"refs/heads/main","after":"8c1f0e2d","commits":[{"message":"x"}]})";
    CHECK(sync(s.port(), {bearer(kToken), {"Content-Type", "application/json"}}, payload).status == 200);
    CHECK(sync(s.port(), {bearer(kToken), {"Content-Type", "application/json; charset=utf-8"}}, " ").status ==
          200);
    CHECK(
        sync(s.port(), {bearer(kToken), {"Content-Type", "application/x-www-form-urlencoded"}}, "payload=%7B")
            .status == 200);
    CHECK(sync(s.port(), {bearer(kToken), {"Content-Type", "text/plain"}}, "not json {").status == 200);
    CHECK(
        fetch(s.port(),
              Request{
                  "POST", "/v1/sync", payload, {bearer(kToken), {"Content-Type", "application/json"}}, true})
            .status == 200);  // chunked
    CHECK(s.daemon.calls().size() == 5);

    for (const std::string& bad :
         std::vector<std::string>{"{", "not json", R"({"a":1} trailing)", std::string(300, '[')}) {
        INFO(bad);
        check_error(sync(s.port(), {bearer(kToken), {"Content-Type", "application/json"}}, bad), 400);
    }
    CHECK(s.daemon.calls().size() == 5);
}

TEST_CASE("a sync body over max_body_bytes is 413", "[http][sync]") {
    Served s;
    const std::string big(64 * 1024 + 1, 'x');
    check_error(sync(s.port(), {bearer(kToken)}, big), 413);
    check_error(fetch(s.port(), Request{"POST", "/v1/sync", big, {bearer(kToken)}, true}), 413);  // chunked
    CHECK(s.daemon.calls().empty());
    CHECK(sync(s.port(), {bearer(kToken)}, std::string(64 * 1024, 'x')).status == 200);  // just fits
    CHECK(s.daemon.calls().size() == 1);
}

TEST_CASE("Expect: 100-continue is answered before the body is read, or not at all", "[http][sync]") {
    Served s;
    SECTION("over the limit: 413 from the declared length, before the body is sent") {
        RawClient client(s.port());
        REQUIRE(client.send_all(std::string("POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
                                kToken + "\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n"));
        const std::string answer = client.read_all();
        CHECK(status_line_code(answer) == 413);  // and no "100 Continue" before it
        CHECK_FALSE(parse(body_of(answer))->getValue<bool>("ok"));
        CHECK(s.daemon.calls().empty());
    }
    SECTION("within the limit: 100 Continue, then the body is read") {
        RawClient client(s.port());
        REQUIRE(client.send_all(std::string("POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
                                kToken +
                                "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                                "Expect: 100-continue\r\n\r\n"));
        char buffer[64] = {};
        REQUIRE(recv_some(client, buffer, sizeof buffer - 1).starts_with("HTTP/1.1 100 Continue\r\n\r\n"));
        REQUIRE(client.send_all("{}"));
        CHECK(status_line_code(client.read_all()) == 200);
        CHECK(s.daemon.calls().size() == 1);
    }
}

TEST_CASE("unknown paths are 404 and wrong methods 405 with Allow", "[http]") {
    Served s;
    for (const char* path : {"/", "/metrics/", "/v1", "/v1/units/", "/v1/units/a/b",
                             "/v1/units/web.service/ready/x", "/v1/sync/now", "/favicon.ico"}) {
        INFO(path);
        check_error(get(s.port(), path), 404);
    }
    const Answer post = fetch(s.port(), Request{"POST", "/metrics", "", {}, false});
    check_error(post, 405);
    CHECK(post.response.get("Allow", "") == "GET, HEAD");
    const Answer del = fetch(s.port(), Request{"DELETE", "/v1/units/web.service", "", {}, false});
    check_error(del, 405);
    const Answer get_sync = get(s.port(), "/v1/sync");
    check_error(get_sync, 405);
    CHECK(get_sync.response.get("Allow", "") == "POST");
    CHECK(s.daemon.calls().empty());
}

TEST_CASE("a handler that throws is a 500 and the server goes on", "[http]") {
    Served s;
    const Answer a = get(s.port(), "/v1/units/throws.service");
    check_error(a, 500);
    CHECK(parse(a.body)->getValue<std::string>("error").find("the handler failed") != std::string::npos);
    s.daemon.metrics_throw = true;
    check_error(get(s.port(), "/metrics"), 500);
    s.daemon.metrics_throw = false;
    CHECK(get(s.port(), "/metrics").status == 200);
    CHECK(get(s.port(), "/v1/units/web.service").status == 200);
}

TEST_CASE("oversized or malformed request heads are refused and the server goes on", "[http][robust]") {
    Served s;
    SECTION("a 100 KiB header line") {
        check_refused_head(s.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Long: " +
                                         std::string(100 * 1024, 'a') + "\r\n\r\n");
    }
    SECTION("10,000 header fields") {
        std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
        for (int i = 0; i < 10000; ++i) request += "X-Field-" + std::to_string(i) + ": v\r\n";
        check_refused_head(s.port(), request + "\r\n");
    }
    SECTION("a 100 KiB request target") {
        check_refused_head(s.port(), "GET /" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    SECTION("an HTTP version other than 1.0 and 1.1") {
        RawClient client(s.port());
        REQUIRE(client.send_all("GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n"));
        const std::string answer = client.read_all();
        CHECK(answer.starts_with("HTTP/1.1 505 "));
        CHECK_FALSE(parse(body_of(answer))->getValue<bool>("ok"));
    }
    SECTION("not HTTP") {
        RawClient client(s.port());
        REQUIRE(client.send_all("HELLO\r\n\r\n"));
        const std::string answer = client.read_all();
        CHECK(status_line_code(answer) == 400);
        CHECK_FALSE(parse(body_of(answer))->getValue<bool>("ok"));
        CHECK(get(s.port(), "/metrics").status == 200);
    }
}

TEST_CASE("slow clients are cut off and do not keep others waiting", "[http][robust]") {
    HttpOptions options = test_options();  // 4 threads, 1 s timeout
    Served s(options);
    std::vector<std::unique_ptr<RawClient>> slow;
    for (int i = 0; i < 20; ++i) {
        slow.push_back(std::make_unique<RawClient>(s.port()));
        REQUIRE(slow.back()->connect_errno() == 0);
        REQUIRE(slow.back()->send_all("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: "));
    }
    const auto started = std::chrono::steady_clock::now();
    const Answer a = get(s.port(), "/metrics");
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    CHECK(a.status == 200);
    CHECK(waited.count() < options.timeout_ms + 2000);
    // Every slow client has been closed by now (with or without a 408/400 answer).
    for (auto& client : slow) {
        client->send_all("more\r\n");
        const std::string answer = client->read_all();
        INFO(answer);
        CHECK((answer.empty() || status_line_code(answer) >= 400));
    }
}

TEST_CASE("a client dripping its request head is cut off at the timeout", "[http][robust]") {
    Served s;  // 1 s timeout: a deadline for the whole head, not for each read
    RawClient client(s.port());
    REQUIRE(client.send_all("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: "));
    const auto started = std::chrono::steady_clock::now();
    while (client.send_all("a") && std::chrono::steady_clock::now() - started < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
}

TEST_CASE("past 64 connections waiting or being read, more are closed at once", "[http][robust]") {
    HttpOptions options = test_options();
    options.timeout_ms = 30000;
    Served s(options);
    std::vector<std::unique_ptr<RawClient>> slow;
    for (int i = 0; i < 64; ++i) {
        slow.push_back(std::make_unique<RawClient>(s.port()));
        REQUIRE(slow.back()->send_all("GET /metrics HTTP/1.1\r\n"));
    }
    const auto started = std::chrono::steady_clock::now();
    RawClient refused(s.port());
    CHECK(refused.read_all().empty());
    CHECK_FALSE(refused.reset());  // closed, not timed out
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    slow.clear();  // once they are gone, there is room again
    const auto retried = std::chrono::steady_clock::now();
    int status = 0;
    while (status != 200 && std::chrono::steady_clock::now() - retried < std::chrono::seconds(10)) {
        try {
            status = get(s.port(), "/metrics").status;
        } catch (const Poco::Exception&) {
            // still closed at once: the server has not seen all of them go yet
        }
    }
    CHECK(status == 200);
}

TEST_CASE("a second endpoint on the same port fails to start", "[http]") {
    Served s;
    HttpOptions options = test_options();
    options.address = "127.0.0.1:" + std::to_string(s.port());
    FakeDaemon other;
    const auto second = HttpEndpoint::start(options, other.handlers());
    REQUIRE_FALSE(second);
    CHECK(second.error() == "cannot listen on '" + options.address + "': Address already in use");
    CHECK(get(s.port(), "/metrics").status == 200);
}

TEST_CASE("after stop() the port refuses connections", "[http]") {
    Served s;
    const uint16_t port = s.port();
    CHECK(get(port, "/metrics").status == 200);
    s.endpoint->stop();
    s.endpoint->stop();  // idempotent
    RawClient client(port);
    CHECK(client.connect_errno() == ECONNREFUSED);
}

TEST_CASE("stop() cuts off requests still being read", "[http]") {
    HttpOptions options = test_options();
    options.timeout_ms = 30000;
    Served s(options);
    RawClient slow(s.port());
    REQUIRE(slow.send_all("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
    CHECK(get(s.port(), "/metrics").status == 200);  // the slow one is being read by then
    const auto started = std::chrono::steady_clock::now();
    s.endpoint->stop();
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    slow.read_all();  // closed
}

TEST_CASE("listen addresses: loopback by default, IP literals only", "[http]") {
    const auto address = [](const std::string& text) {
        const auto parsed = parse_http_address(text);
        INFO(parsed.error());
        REQUIRE(parsed);
        return parsed->toString();
    };
    CHECK(address("127.0.0.1:9180") == "127.0.0.1:9180");
    CHECK(address(":9180") == "127.0.0.1:9180");  // loopback unless told otherwise
    CHECK(address("localhost:80") == "127.0.0.1:80");
    CHECK(address("0.0.0.0:9180") == "0.0.0.0:9180");
    CHECK(address("[::1]:9180") == "[::1]:9180");
    CHECK(address("[::]:0") == "[::]:0");

    const auto error = [](const std::string& text) {
        const auto parsed = parse_http_address(text);
        REQUIRE_FALSE(parsed);
        return parsed.error();
    };
    CHECK(error("9180") == "invalid HTTP address '9180': expected HOST:PORT, [IPV6]:PORT or :PORT");
    CHECK(error("127.0.0.1:65536") ==
          "invalid HTTP address '127.0.0.1:65536': '65536' is not a port number (0-65535)");
    CHECK(error("127.0.0.1:") == "invalid HTTP address '127.0.0.1:': '' is not a port number (0-65535)");
    CHECK(error("127.0.0.1:http") ==
          "invalid HTTP address '127.0.0.1:http': 'http' is not a port number (0-65535)");
    CHECK(error("::1:9180") ==
          "invalid HTTP address '::1:9180': an IPv6 address goes in brackets: [IPV6]:PORT");
    CHECK(error("1.2.3:80") ==
          "invalid HTTP address '1.2.3:80': '1.2.3' is not an IPv4 address or localhost (host names are not "
          "resolved)");
    CHECK(error("[::1]") == "invalid HTTP address '[::1]': expected [IPV6]:PORT");
    CHECK(error("[127.0.0.1]:80") ==
          "invalid HTTP address '[127.0.0.1]:80': '127.0.0.1' is not an IPv6 address");
    CHECK(error("example.com:80") ==
          "invalid HTTP address 'example.com:80': 'example.com' is not an IPv4 address or localhost (host "
          "names are "
          "not resolved)");

    FakeDaemon daemon;
    HttpOptions options = test_options();
    options.address = "nowhere";
    const auto started = HttpEndpoint::start(options, daemon.handlers());
    REQUIRE_FALSE(started);
    CHECK(started.error() == error("nowhere"));
}

TEST_CASE("an endpoint on the IPv6 loopback", "[http]") {
    FakeDaemon daemon;
    HttpOptions options = test_options();
    options.address = "[::1]:0";
    auto started = HttpEndpoint::start(options, daemon.handlers());
    if (!started) {
        WARN("skipped: " << started.error());
        return;
    }
    Poco::Net::HTTPClientSession session("::1", (*started)->port());
    Poco::Net::HTTPRequest request("GET", "/metrics", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    session.receiveResponse(response);
    CHECK(response.getStatus() == 200);
}
