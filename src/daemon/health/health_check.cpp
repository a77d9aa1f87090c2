#include "daemon/health/health_check.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/NullStream.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "unitfile/directives.h"
#include "unitfile/unit.h"

#ifdef GITVISOR_HAVE_NETSSL
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPSClientSession.h>
#endif

namespace gitvisor::daemon {
namespace {

int64_t duration_of(const unitfile::Unit& unit, const char* key, int64_t fallback) {
    const auto* d = unit.get<unitfile::Duration>("X-Gitvisor", key);
    if (!d || d->usec == unitfile::kInfinity) return fallback;
    return static_cast<int64_t>(d->usec);
}

std::string seconds_text(int64_t usec) {
    if (usec % 1'000'000 == 0) return std::to_string(usec / 1'000'000) + " s";
    return std::to_string(usec / 1000) + " ms";
}

// "host:port" or "[v6]:port" into its parts.
bool split_host_port(const std::string& text, std::string& host, std::string& port) {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return false;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return !host.empty() && !port.empty();
}

}  // namespace

const char* to_string(HealthSpec::Kind kind) {
    switch (kind) {
        case HealthSpec::Kind::Url: return "HealthCheckURL";
        case HealthSpec::Kind::Tcp: return "HealthCheckTCP";
        case HealthSpec::Kind::Exec: return "HealthCheckExec";
        case HealthSpec::Kind::None: break;
    }
    return "none";
}

HealthSpec health_spec_of(const unitfile::Unit& unit) {
    HealthSpec spec;
    if (const auto* url = unit.get<std::string>("X-Gitvisor", "HealthCheckURL")) {
        spec.kind = HealthSpec::Kind::Url;
        spec.target = *url;
    } else if (const auto* tcp = unit.get<std::string>("X-Gitvisor", "HealthCheckTCP")) {
        spec.kind = HealthSpec::Kind::Tcp;
        spec.target = *tcp;
    } else if (const auto* exec = unit.get<std::vector<unitfile::ExecCommand>>("X-Gitvisor", "HealthCheckExec");
               exec && !exec->empty()) {
        spec.kind = HealthSpec::Kind::Exec;
    } else {
        return spec;
    }
    spec.interval_usec = std::max<int64_t>(duration_of(unit, "HealthCheckInterval", spec.interval_usec), 1000);
    spec.timeout_usec = std::max<int64_t>(duration_of(unit, "HealthCheckTimeout", spec.timeout_usec), 1000);
    spec.start_period_usec = duration_of(unit, "HealthCheckStartPeriod", 0);
    if (const auto* retries = unit.get<int64_t>("X-Gitvisor", "HealthCheckRetries"))
        spec.retries = static_cast<int>(*retries);
    return spec;
}

CheckOutcome check_http(const std::string& url, int64_t timeout_usec) {
    try {
        const Poco::URI uri(url);
        std::unique_ptr<Poco::Net::HTTPClientSession> session;
        if (uri.getScheme() == "https") {
#ifdef GITVISOR_HAVE_NETSSL
            static const Poco::Net::Context::Ptr context =
                new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_NONE);
            session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), context);
#else
            return {false, "https:// checks need gitvisor built with Poco NetSSL"};
#endif
        } else {
            session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
        }
        session->setTimeout(Poco::Timespan(timeout_usec));
        session->setKeepAlive(false);
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathAndQuery().empty() ? "/" : uri.getPathAndQuery(),
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("User-Agent", "gitvisor-health-check");
        session->sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::istream& body = session->receiveResponse(response);
        // Read (and drop) a little of the body so the server is not reset mid-answer.
        char scratch[4096];
        body.read(scratch, sizeof scratch);
        const int code = static_cast<int>(response.getStatus());
        const std::string detail = "HTTP " + std::to_string(code) + " " + response.getReason();
        return {code >= 200 && code < 300, detail};
    } catch (const Poco::TimeoutException&) {
        return {false, "timed out after " + seconds_text(timeout_usec)};
    } catch (const Poco::Net::ConnectionRefusedException&) {
        return {false, "connection refused"};
    } catch (const Poco::Exception& e) {
        return {false, e.displayText()};
    } catch (const std::exception& e) {
        return {false, e.what()};
    }
}

CheckOutcome check_tcp(const std::string& host_port, int64_t timeout_usec) {
    std::string host, port;
    if (!split_host_port(host_port, host, port)) return {false, "'" + host_port + "' is not host:port"};
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
        return {false, "cannot resolve '" + host + "': " + gai_strerror(rc)};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(timeout_usec);
    std::string last = "no address";
    for (addrinfo* a = found; a; a = a->ai_next) {
        const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        int error = rc == 0 ? 0 : errno;
        if (rc != 0 && errno == EINPROGRESS) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{fd, POLLOUT, 0};
            rc = left.count() > 0 ? poll(&p, 1, static_cast<int>(left.count())) : 0;
            if (rc <= 0) {
                error = ETIMEDOUT;
            } else {
                socklen_t len = sizeof error;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
            }
        }
        close(fd);
        if (error == 0) {
            freeaddrinfo(found);
            return {true, "connected to " + host_port};
        }
        last = error == ETIMEDOUT ? "timed out after " + seconds_text(timeout_usec) : std::string(std::strerror(error));
        if (error == ECONNREFUSED) last = "connection refused";
    }
    freeaddrinfo(found);
    return {false, last};
}

}  // namespace gitvisor::daemon
