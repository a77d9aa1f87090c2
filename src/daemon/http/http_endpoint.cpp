#include "daemon/http/http_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerDispatcher.h>
#include <Poco/ThreadPool.h>
#include <Poco/Timespan.h>
#include <Poco/Timestamp.h>
#include <Poco/URI.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/exit_codes.h"
#include "common/json_reader.h"
#include "common/sha256.h"
#include "daemon/http/acceptor.h"
#include "daemon/http/deadlines.h"

namespace gitvisor::daemon {
namespace {

using Poco::JSON::Object;
using Poco::Net::HTTPServerRequestImpl;
using Poco::Net::HTTPServerResponseImpl;
using Poco::Net::StreamSocket;
using Clock = std::chrono::steady_clock;

// Connections accepted and not yet answered; more are closed at once. Also Poco's queue limit, which is
// therefore never reached (a connection it refuses would stay open, held by its deadline, until that passes).
constexpr size_t kMaxQueued = 64;
constexpr int64_t kMaxHistory = 10000;  // largest n of GET /v1/deployments
constexpr size_t kMaxDrainBytes = 1 << 20;
constexpr int kDrainIdleMs = 200;
constexpr const char* kJson = "application/json";
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";

Result<Poco::Net::SocketAddress> bad_address(const std::string& address, const std::string& reason) {
    return Result<Poco::Net::SocketAddress>::fail("invalid HTTP address '" + address + "': " + reason);
}

struct Reply {
    int status = 200;
    std::string content_type = kJson;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

std::string to_json(const Object::Ptr& object) {
    std::ostringstream out;
    object->stringify(out);
    return out.str();
}

Object::Ptr new_object() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

Reply error_reply(int status, const std::string& message) {
    Object::Ptr o = new_object();
    o->set("ok", false);
    o->set("error", message);
    return Reply{status, kJson, to_json(o), {}};
}

// The HTTP status of a control answer (DESIGN §7 exit codes).
int status_of(const Object& answer) {
    if (answer.optValue<bool>("ok", false)) return 200;
    const std::string key = answer.has("exit_code") ? "exit_code" : "code";
    switch (answer.optValue<int>(key, kExitFailure)) {
        case kExitUsage: return 400;
        case kExitNotActive: return 200;  // `status` of a unit that is not active is still an answer
        case kExitNoSuchUnit: return 404;
        case kExitPermissionDenied: return 403;
        default: return 500;
    }
}

Reply control_reply(const Object::Ptr& answer) {
    if (!answer) return error_reply(500, "the daemon gave no answer");
    return Reply{status_of(*answer), kJson, to_json(answer), {}};
}

// A request head Poco refused (HTTPRequest::read, MessageHeader::read). Only the header field messages
// tell a size limit for sure; "HTTP request URI invalid or too long" is also what a missing URI gives.
Reply head_error(const Poco::Exception& e) {
    const std::string& text = e.message();
    if (dynamic_cast<const Poco::TimeoutException*>(&e)) return error_reply(408, "the request took too long");
    if (text == "Too many header fields" || text.starts_with("Field name too long") ||
        text.starts_with("Field value too long") || text.starts_with("Folded field value too long"))
        return error_reply(431, "the request header is too large: " + text);
    return error_reply(400, "bad request: " + e.displayText());
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::array<uint8_t, 32> digest(std::string_view text) {
    Sha256 h;
    h.update(text);
    return h.finish();
}

// "Bearer TOKEN" (the scheme is case-insensitive, RFC 7235). Digests are compared, all of their bytes, so
// that the time taken tells neither where a guess differs nor how long the token is.
bool bearer_matches(std::string_view header, const std::optional<std::array<uint8_t, 32>>& token) {
    if (!token) return false;
    header = trim(header);
    if (header.size() < 8 || !iequals(header.substr(0, 6), "bearer") || header[6] != ' ') return false;
    const auto given = digest(trim(header.substr(7)));
    uint8_t difference = 0;
    for (size_t i = 0; i < given.size(); ++i) difference |= static_cast<uint8_t>(given[i] ^ (*token)[i]);
    return difference == 0;
}

bool is_json_type(const std::string& content_type) {
    std::string_view type = content_type;
    type = trim(type.substr(0, type.find(';')));
    return iequals(type, "application/json");
}

struct Shared {
    Shared(HttpOptions o, HttpHandlers h)
        : options(std::move(o)),
          handlers(std::move(h)),
          params(new Poco::Net::HTTPServerParams),
          deadlines(std::chrono::milliseconds(options.timeout_ms), kMaxQueued) {
        if (!options.token.empty()) token = digest(options.token);
        params->setMaxThreads(options.max_threads);
        params->setMaxQueued(static_cast<int>(kMaxQueued));
        params->setTimeout(Poco::Timespan(int64_t{options.timeout_ms} * 1000));
        params->setKeepAlive(false);
        // A connection thread waiting for work wakes after this long to see whether it should end: rarely,
        // so an idle gitvisord sleeps (Poco's default is 10 s).
        params->setThreadIdleTime(Poco::Timespan(3600, 0));
    }

    const HttpOptions options;
    const HttpHandlers handlers;
    std::optional<std::array<uint8_t, 32>> token;
    Poco::Net::HTTPServerParams::Ptr params;
    Deadlines deadlines;
};

enum class Target { NotFound, Metrics, Healthz, Units, Unit, UnitReady, Deployments, Sync };

struct Route {
    Target target = Target::NotFound;
    std::string unit;
};

Route route_of(const std::string& path) {
    if (path == "/metrics") return {Target::Metrics, {}};
    if (path == "/healthz") return {Target::Healthz, {}};
    if (path == "/v1/units") return {Target::Units, {}};
    if (path == "/v1/deployments") return {Target::Deployments, {}};
    if (path == "/v1/sync") return {Target::Sync, {}};
    constexpr std::string_view prefix = "/v1/units/";
    if (path.starts_with(prefix)) {
        const std::string rest = path.substr(prefix.size());
        const size_t slash = rest.find('/');
        if (slash == std::string::npos && !rest.empty()) return {Target::Unit, rest};
        if (slash != std::string::npos && slash > 0 && rest.substr(slash) == "/ready")
            return {Target::UnitReady, rest.substr(0, slash)};
    }
    return {};
}

// Serves the one request of a connection (no keep-alive) with our own loop rather than
// HTTPServerConnection's: the deadline must be released before the session closes the socket, and a
// malformed request gets a JSON answer too.
class Connection : public Poco::Net::TCPServerConnection {
public:
    Connection(const StreamSocket& socket, Shared& shared) : TCPServerConnection(socket), m_shared(shared) {}

    void run() override {
        try {
            const Poco::Timespan timeout(int64_t{m_shared.options.timeout_ms} * 1000);
            socket().setReceiveTimeout(timeout);
            socket().setSendTimeout(timeout);
            Poco::Net::HTTPServerSession session(socket(), m_shared.params);
            const Release release{m_shared.deadlines, socket()};  // before `session` closes the descriptor
            m_shared.deadlines.taken(socket());
            serve(session);
        } catch (...) {
            // The client went away or was cut off. The session, if made, has closed the socket after the
            // release; if it was not, nothing has closed it yet and releasing now is safe.
            m_shared.deadlines.release(socket());
        }
    }

private:
    struct Release {
        Deadlines& deadlines;
        const StreamSocket& socket;
        ~Release() { deadlines.release(socket); }
    };

    void serve(Poco::Net::HTTPServerSession& session) {
        auto response = std::make_unique<HTTPServerResponseImpl>(session);
        std::unique_ptr<HTTPServerRequestImpl> request;
        Reply reply;
        try {
            request = std::make_unique<HTTPServerRequestImpl>(*response, session, m_shared.params.get());
        } catch (const Poco::Net::NoMessageException&) {
            return;  // closed (or cut off) before sending anything
        } catch (const Poco::Exception& e) {
            // The failed request is attached to `response`; a fresh one answers.
            response = std::make_unique<HTTPServerResponseImpl>(session);
            reply = head_error(e);
        }
        const bool known_version = request && (request->getVersion() == Poco::Net::HTTPMessage::HTTP_1_1 ||
                                               request->getVersion() == Poco::Net::HTTPMessage::HTTP_1_0);
        if (request && !known_version) {
            reply = error_reply(505, "HTTP version '" + request->getVersion() + "' is not supported");
        } else if (request) {
            m_complete = !request->getChunkedTransferEncoding() &&
                         !(request->hasContentLength() && request->getContentLength64() > 0);
            try {
                reply = answer(*request, *response);
            } catch (const Poco::Exception& e) {
                reply = error_reply(500, "internal error: " + e.displayText());
            } catch (const std::exception& e) {
                reply = error_reply(500, std::string("internal error: ") + e.what());
            } catch (...) {
                reply = error_reply(500, "internal error");
            }
        }
        m_shared.deadlines.watch(socket());
        send(*response, reply, request && request->getMethod() == "HEAD",
             known_version ? request->getVersion() : Poco::Net::HTTPMessage::HTTP_1_1);
        if (!m_complete) drain();
    }

    Reply answer(HTTPServerRequestImpl& request, HTTPServerResponseImpl& response) {
        Poco::URI uri;
        try {
            uri = Poco::URI(request.getURI());
        } catch (const Poco::Exception&) {
            return error_reply(400, "invalid request target '" + request.getURI() + "'");
        }
        const Route route = route_of(uri.getPath());
        if (route.target == Target::NotFound) return error_reply(404, "no such path '" + uri.getPath() + "'");
        const std::string& method = request.getMethod();
        const bool post = route.target == Target::Sync;
        if (post ? method != "POST" : method != "GET" && method != "HEAD") {
            Reply r = error_reply(405, "method " + method + " is not allowed here");
            r.headers.emplace_back("Allow", post ? "POST" : "GET, HEAD");
            return r;
        }
        const bool authorised = bearer_matches(request.get("Authorization", ""), m_shared.token);
        if (post) return sync(request, response, authorised);

        m_shared.deadlines.release(socket());  // the request is read: the handlers may take their time
        const HttpHandlers& h = m_shared.handlers;
        switch (route.target) {
            case Target::Metrics: return Reply{200, kMetricsType, h.metrics(), {}};
            case Target::Healthz: {
                Object::Ptr ping = new_object();
                ping->set("cmd", "ping");
                const Object::Ptr answer = h.control(ping, authorised);
                if (answer && answer->optValue<bool>("ok", false))
                    return Reply{200, kJson, R"({"ok":true})", {}};
                Reply r = control_reply(answer);
                r.status = 503;
                return r;
            }
            case Target::Units: {
                Object::Ptr list = new_object();
                list->set("cmd", "list");
                return control_reply(h.control(list, authorised));
            }
            case Target::Unit: {
                Object::Ptr status = new_object();
                status->set("cmd", "status");
                status->set("unit", route.unit);
                return control_reply(h.control(status, authorised));
            }
            case Target::UnitReady: return ready(route.unit);
            case Target::Deployments: return history(uri, authorised);
            default: return error_reply(404, "no such path '" + uri.getPath() + "'");
        }
    }

    Reply ready(const std::string& unit) {
        const ReadyAnswer a = m_shared.handlers.ready(unit);
        if (a.http_status < 200 || a.http_status > 599) return error_reply(500, "invalid readiness answer");
        Object::Ptr o = new_object();
        if (a.http_status == 404) {
            o->set("ok", false);
            o->set("error", "no such unit '" + unit + "'");
        }
        o->set("unit", unit);
        o->set("state", a.state);
        o->set("health", a.health);
        o->set("ready", a.http_status == 200);
        return Reply{a.http_status, kJson, to_json(o), {}};
    }

    Reply history(const Poco::URI& uri, bool authorised) {
        int64_t n = 20;
        for (const auto& [key, value] : uri.getQueryParameters()) {
            if (key != "n") continue;
            const bool digits =
                !value.empty() && value.size() <= 5 &&
                std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
            n = digits ? std::stoll(value) : 0;
            if (n < 1 || n > kMaxHistory)
                return error_reply(400, "n must be a whole number from 1 to " + std::to_string(kMaxHistory));
        }
        Object::Ptr request = new_object();
        request->set("cmd", "history");
        request->set("n", n);
        return control_reply(m_shared.handlers.control(request, authorised));
    }

    Reply sync(HTTPServerRequestImpl& request, HTTPServerResponseImpl& response, bool authorised) {
        if (!authorised) {
            const bool presented = !request.get("Authorization", "").empty();
            Reply r = error_reply(401, !m_shared.token ? "sync over HTTP is off: gitvisord has no token"
                                       : presented     ? "the bearer token is not valid"
                                                       : "a bearer token is required");
            r.headers.emplace_back("WWW-Authenticate",
                                   presented ? R"(Bearer realm="gitvisor", error="invalid_token")"
                                             : R"(Bearer realm="gitvisor")");
            return r;
        }
        const size_t max = m_shared.options.max_body_bytes;
        const std::string too_large = "the request body is over " + std::to_string(max) + " bytes";
        if (request.hasContentLength() && request.getContentLength64() > static_cast<int64_t>(max))
            return error_reply(413, too_large);

        std::string body;
        if (!m_complete) {
            if (request.getExpectContinue()) {
                response.setVersion(request.getVersion());  // sendContinue() writes the response's version
                response.sendContinue();
            }
            std::istream& in = request.stream();
            char buffer[8192];
            while (in && body.size() <= max) {
                in.read(buffer, static_cast<std::streamsize>(std::min(sizeof buffer, max + 1 - body.size())));
                body.append(buffer, static_cast<size_t>(in.gcount()));
            }
            if (body.size() > max) return error_reply(413, too_large);
            if (in.bad() || (request.hasContentLength() &&
                             body.size() != static_cast<size_t>(request.getContentLength64())))
                return error_reply(400, "the request body is incomplete or malformed");
            m_complete = true;
        }
        m_shared.deadlines.release(socket());

        if (is_json_type(request.getContentType()) && !trim(body).empty()) {
            const Result<JsonValue> parsed = parse_json(body);
            if (!parsed) return error_reply(400, "the request body is not JSON: " + parsed.error());
        }
        Object::Ptr sync = new_object();
        sync->set("cmd", "sync");
        return control_reply(m_shared.handlers.control(sync, true));
    }

    void send(HTTPServerResponseImpl& response, const Reply& reply, bool head, const std::string& version) {
        try {
            response.setVersion(version);
            response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
            response.setKeepAlive(false);
            response.setDate(Poco::Timestamp());
            response.setContentType(reply.content_type);
            response.setContentLength64(static_cast<int64_t>(reply.body.size()));
            for (const auto& [name, value] : reply.headers) response.set(name, value);
            std::ostream& out = response.send();
            if (!head) out.write(reply.body.data(), static_cast<std::streamsize>(reply.body.size()));
            out.flush();
        } catch (const Poco::Exception&) {
            m_complete = true;  // the client is gone: nothing to wait for
        }
    }

    // The request was not read to its end: read and drop what still comes for a moment before closing.
    // Closing with unread data sends a reset, and a client still sending may then lose the answer.
    void drain() {
        try {
            socket().shutdownSend();
            char buffer[16384];
            size_t total = 0;
            while (total < kMaxDrainBytes && socket().poll(Poco::Timespan(int64_t{kDrainIdleMs} * 1000),
                                                           Poco::Net::Socket::SELECT_READ)) {
                const int n = socket().receiveBytes(buffer, sizeof buffer);
                if (n <= 0) break;
                total += static_cast<size_t>(n);
            }
        } catch (const Poco::Exception&) {
            // reset or cut off: closing is all that is left
        }
    }

    Shared& m_shared;
    bool m_complete = false;  // the whole request has been read
};

class ConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
public:
    explicit ConnectionFactory(Shared& shared) : m_shared(shared) {}
    Poco::Net::TCPServerConnection* createConnection(const StreamSocket& socket) override {
        return new Connection(socket, m_shared);
    }

private:
    Shared& m_shared;
};

std::string reason_of(const Poco::Exception& e) {
    if (e.code() > 0) return std::strerror(e.code());
    return e.message().empty() ? e.displayText() : e.message();
}

}  // namespace

Result<Poco::Net::SocketAddress> parse_http_address(const std::string& address) {
    std::string host, port;
    bool bracketed = false;
    if (!address.empty() && address[0] == '[') {
        const size_t close = address.find(']');
        if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':')
            return bad_address(address, "expected [IPV6]:PORT");
        host = address.substr(1, close - 1);
        port = address.substr(close + 2);
        bracketed = true;
    } else {
        const size_t colon = address.rfind(':');
        if (colon == std::string::npos)
            return bad_address(address, "expected HOST:PORT, [IPV6]:PORT or :PORT");
        host = address.substr(0, colon);
        if (host.find(':') != std::string::npos)
            return bad_address(address, "an IPv6 address goes in brackets: [IPV6]:PORT");
        port = address.substr(colon + 1);
    }
    const bool digits = !port.empty() && port.size() <= 5 &&
                        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoul(port) > 65535)
        return bad_address(address, "'" + port + "' is not a port number (0-65535)");

    // inet_pton, not IPAddress::tryParse: Poco 1.11 refuses "::" and takes "1.2.3" for 1.2.0.3.
    if (!bracketed && (host.empty() || host == "localhost")) host = "127.0.0.1";
    const auto number = static_cast<Poco::UInt16>(std::stoul(port));
    if (bracketed) {
        in6_addr ip{};
        if (inet_pton(AF_INET6, host.c_str(), &ip) != 1)
            return bad_address(address, "'" + host + "' is not an IPv6 address");
        return Result<Poco::Net::SocketAddress>::ok(
            Poco::Net::SocketAddress(Poco::Net::IPAddress(&ip, sizeof ip), number));
    }
    in_addr ip{};
    if (inet_pton(AF_INET, host.c_str(), &ip) != 1)
        return bad_address(
            address, "'" + host + "' is not an IPv4 address or localhost (host names are not resolved)");
    return Result<Poco::Net::SocketAddress>::ok(
        Poco::Net::SocketAddress(Poco::Net::IPAddress(&ip, sizeof ip), number));
}

struct HttpEndpoint::Impl {
    Impl(HttpOptions options, HttpHandlers handlers)
        : shared(std::move(options), std::move(handlers)), pool("http", 1, shared.options.max_threads) {}

    Shared shared;
    Poco::ThreadPool pool;
    std::unique_ptr<Acceptor> acceptor;
    uint16_t port = 0;
    std::mutex stop_mutex;
};

HttpEndpoint::HttpEndpoint(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

HttpEndpoint::~HttpEndpoint() { stop(); }

uint16_t HttpEndpoint::port() const { return m_impl->port; }

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::start(HttpOptions options, HttpHandlers handlers) {
    using R = Result<std::unique_ptr<HttpEndpoint>>;
    if (options.max_threads < 1 || options.max_threads > 256)
        return R::fail("invalid HTTP option: max_threads must be from 1 to 256");
    if (options.timeout_ms < 1) return R::fail("invalid HTTP option: timeout_ms must be positive");
    const Result<Poco::Net::SocketAddress> address = parse_http_address(options.address);
    if (!address) return R::fail(address.error());

    // SO_REUSEADDR lets a restarted daemon bind while old connections linger; SO_REUSEPORT, which Poco's
    // ServerSocket(address) would set, must stay off or a second daemon binds the same port silently.
    Poco::Net::ServerSocket socket;
    try {
        if (address->family() == Poco::Net::IPAddress::IPv6)
            socket.bind6(*address, true, false, false);  // not IPv6-only: [::] takes IPv4 clients too
        else
            socket.bind(*address, true, false);
        socket.listen(static_cast<int>(kMaxQueued));
    } catch (const Poco::Exception& e) {
        return R::fail("cannot listen on '" + options.address + "': " + reason_of(e));
    }

    auto impl = std::make_unique<Impl>(std::move(options), std::move(handlers));
    impl->port = socket.address().port();
    // Each connection's clock starts in the accept thread, so that time spent in the queue counts.
    Shared& shared = impl->shared;
    impl->acceptor = std::make_unique<Acceptor>(
        socket, new Poco::Net::TCPServerDispatcher(new ConnectionFactory(shared), impl->pool, shared.params),
        [&shared](const StreamSocket& connection) { return shared.deadlines.admit(connection); });
    if (Result<bool> started = impl->acceptor->start(); !started) return R::fail(started.error());
    return R::ok(std::unique_ptr<HttpEndpoint>(new HttpEndpoint(std::move(impl))));
}

void HttpEndpoint::stop() {
    Impl& impl = *m_impl;
    std::lock_guard lock(impl.stop_mutex);
    if (!impl.acceptor) return;
    impl.acceptor->stop();            // joins the accept thread, closes the socket, drops queued connections
    impl.acceptor.reset();
    impl.shared.deadlines.cut_all();  // requests still being read end now
    impl.pool.joinAll();              // answers being written are finished
}

}  // namespace gitvisor::daemon
