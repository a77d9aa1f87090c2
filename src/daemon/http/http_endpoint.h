#pragma once
// The HTTP endpoint (DESIGN §8), off unless `gitvisord --http ADDR`. It speaks for the daemon through three
// handlers and knows nothing else of it: control requests go through the same handler as the control socket
// (DESIGN §7), so both answer alike.
//
// Routes (every error body is {"ok":false,"error":"..."}):
//   GET  /metrics                    200 text/plain; version=0.0.4 — handlers.metrics()
//   GET  /healthz                    {"cmd":"ping"}: 200 {"ok":true}, else 503 and the control answer
//   GET  /v1/units                   {"cmd":"list"}
//   GET  /v1/units/NAME              {"cmd":"status","unit":NAME}
//   GET  /v1/units/NAME/ready        handlers.ready(NAME): its status, {"unit","state","health","ready"}
//   GET  /v1/deployments[?n=N]       {"cmd":"history","n":N}, N in 1..10000 (default 20; else 400)
//   POST /v1/sync                    {"cmd":"sync"}, needs `Authorization: Bearer TOKEN` (else 401)
// A valid bearer token makes any request `authorised` for the control handler. HEAD is answered like GET. A
// control answer is the body; its status is 200 when "ok", else by its exit code ("exit_code", or "code" as
// the control socket writes it): 2 -> 400, 3 -> 200 (a unit that is not active is still a status), 4 -> 404,
// 5 -> 403, anything else -> 500. Unknown path 404, wrong method 405 with Allow, a handler that throws 500.
//
// POST /v1/sync takes the body git servers send with a push (any content, ignored), but with
// Content-Type: application/json it must be JSON (else 400); over max_body_bytes it is 413, answered without
// reading it all. The token is compared in constant time; an empty token refuses every sync.
//
// Robustness: one request per connection (no keep-alive); at most max_threads requests served at once, and
// at most 64 connections waiting or being read (more are closed at once). Each connection has timeout_ms from its accept to
// the end of its request, and again timeout_ms to take its answer; then it is cut off, even while it waits
// for a thread, so a slow client (slowloris) holds a thread or a queue place for at most that long. One
// waiting with its whole request head in is not cut off: the wait is not its doing. Poco limits a request
// head to a 16 KiB URI and 100 fields of 256-byte names and 8 KiB values: beyond, 400 or 431 and the
// connection is closed (lines without a colon are skipped by Poco and not counted: the deadline bounds them).
// The HTTP version must be 1.0 or 1.1 (else 505).
//
// Built on Poco's TCPServerDispatcher and its HTTP session, request and response classes rather than
// HTTPServer: the per-connection deadline needs to know when each connection ends, and malformed requests
// should get a JSON error too. Every thread sleeps until there is work or a deadline (acceptor.h).

#include <Poco/JSON/Object.h>
#include <Poco/Net/SocketAddress.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"

namespace gitvisor::daemon {

struct HttpOptions {
    // Where to listen: "HOST:PORT" with HOST an IPv4 address or "localhost", "[IPV6]:PORT", or ":PORT",
    // which is the loopback address 127.0.0.1 (DESIGN §8: loopback unless told otherwise). All addresses
    // must be named: "0.0.0.0:PORT", "[::]:PORT". Host names are not resolved. Port 0 picks a free port.
    std::string address;
    std::string token;  // bearer token for POST /v1/sync; empty: POST /v1/sync is always 401
    size_t max_body_bytes = 64 * 1024;
    int max_threads = 4;
    int timeout_ms = 5000;
};

struct ReadyAnswer {
    int http_status;  // 200 ready, 503 not ready, 404 no such unit
    std::string state;
    std::string health;
};

// Called from up to max_threads threads at once: each must be thread-safe. An empty one answers 500.
struct HttpHandlers {
    // A control request as the control socket takes it ({"cmd":"list"} …) -> its response object
    // ({"ok":true,...} or {"ok":false,"error":"...","exit_code":N}, "code" also read). `authorised`: the
    // caller proved the token.
    std::function<Poco::JSON::Object::Ptr(const Poco::JSON::Object::Ptr& request, bool authorised)> control;
    std::function<std::string()> metrics;  // rendered text (render_metrics)
    std::function<ReadyAnswer(const std::string& unit)> ready;
};

// HttpOptions::address as a socket address, or "invalid HTTP address 'X': reason".
Result<Poco::Net::SocketAddress> parse_http_address(const std::string& address);

class HttpEndpoint {
public:
    // Listens on options.address and serves until stop(). Errors: a bad address or option, "cannot listen
    // on 'ADDR': Address already in use" (the port is not shared: SO_REUSEPORT stays off).
    static Result<std::unique_ptr<HttpEndpoint>> start(HttpOptions options, HttpHandlers handlers);

    // Closes the listening socket, cuts off requests still being read and waits for those being answered.
    // Idempotent; the destructor calls it.
    void stop();
    ~HttpEndpoint();
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    uint16_t port() const;  // the bound port (the one picked for port 0)

private:
    struct Impl;
    explicit HttpEndpoint(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace gitvisor::daemon
