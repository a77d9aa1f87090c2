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
#include <optional>
#include <string_view>

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

using Clock = std::chrono::steady_clock;
constexpr const char* kUserAgent = "gitvisor-health-check";

std::string errno_detail(int error, int64_t timeout_usec) {
    if (error == ETIMEDOUT) return "timed out after " + seconds_text(timeout_usec);
    if (error == ECONNREFUSED) return "connection refused";
    return std::strerror(error);
}

// Waits until `fd` is ready for `events` or the deadline passes: false (errno ETIMEDOUT) then.
bool wait_ready(int fd, short events, Clock::time_point deadline) {
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return false;
        }
        pollfd p{fd, events, 0};
        const int rc = poll(&p, 1, static_cast<int>(std::min<int64_t>(left + 1, 60'000)));
        if (rc > 0) return true;
        if (rc < 0 && errno != EINTR) return false;
    }
}

// A TCP connection to host:port (each address in turn) within the check's timeout: a non-blocking socket,
// or -1 with the reason in `why`.
int connect_within(const std::string& host, const std::string& port, int64_t timeout_usec, std::string& why) {
    const Clock::time_point deadline = Clock::now() + std::chrono::microseconds(timeout_usec);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        why = "cannot resolve '" + host + "': " + gai_strerror(rc);
        return -1;
    }
    why = "no address";
    int connected = -1;
    for (addrinfo* a = found; a && connected < 0; a = a->ai_next) {
        const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int error = connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
        if (error == EINPROGRESS) {
            if (wait_ready(fd, POLLOUT, deadline)) {
                socklen_t len = sizeof error;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
            } else {
                error = errno;
            }
        }
        if (error == 0) {
            connected = fd;
        } else {
            close(fd);
            why = errno_detail(error, timeout_usec);
        }
    }
    freeaddrinfo(found);
    return connected;
}

// An http:// URL taken apart for check_plain_http; nullopt for anything else (https, user information).
struct PlainHttpTarget {
    std::string host;         // without the brackets of an IPv6 address
    std::string port = "80";
    std::string host_header;  // the authority as written
    std::string path = "/";   // with the query; the fragment dropped
};

std::optional<PlainHttpTarget> plain_http_target(const std::string& url) {
    constexpr std::string_view kScheme = "http://";
    if (url.size() <= kScheme.size() || url.compare(0, kScheme.size(), kScheme) != 0) return std::nullopt;
    PlainHttpTarget t;
    const size_t authority_end = url.find_first_of("/?#", kScheme.size());
    t.host_header = url.substr(kScheme.size(), authority_end - kScheme.size());
    if (t.host_header.empty() || t.host_header.find('@') != std::string::npos) return std::nullopt;
    if (authority_end != std::string::npos) {
        t.path = url.substr(authority_end, url.find('#', authority_end) - authority_end);
        if (t.path.empty() || t.path.front() != '/') t.path.insert(0, "/");
    }
    const std::string& a = t.host_header;
    const size_t bracket = a.rfind(']');
    const size_t colon = a.rfind(':');
    if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
        t.host = a.substr(0, colon);
        t.port = a.substr(colon + 1);
        if (t.port.empty()) t.port = "80";
    } else {
        t.host = a;
    }
    if (t.host.size() >= 2 && t.host.front() == '[' && t.host.back() == ']') t.host = t.host.substr(1, t.host.size() - 2);
    if (t.host.empty()) return std::nullopt;
    return t;
}

// "HTTP/1.1 204 No Content" -> 204 and "No Content"; false when the line is not an HTTP status line.
bool parse_status_line(std::string_view line, int& code, std::string& reason) {
    if (line.size() < 12 || line.compare(0, 5, "HTTP/") != 0) return false;
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || space + 4 > line.size()) return false;
    code = 0;
    for (size_t i = space + 1; i < space + 4; ++i) {
        if (line[i] < '0' || line[i] > '9') return false;
        code = code * 10 + (line[i] - '0');
    }
    reason = std::string(line.substr(std::min(space + 5, line.size())));
    return true;
}

CheckOutcome check_plain_http(const PlainHttpTarget& t, int64_t timeout_usec) {
    const Clock::time_point deadline = Clock::now() + std::chrono::microseconds(timeout_usec);
    std::string why;
    const int fd = connect_within(t.host, t.port, timeout_usec, why);
    if (fd < 0) return {false, why};
    const std::string request = "GET " + t.path + " HTTP/1.1\r\nHost: " + t.host_header + "\r\nUser-Agent: " +
                                kUserAgent + "\r\nAccept: */*\r\nConnection: close\r\n\r\n";
    size_t sent = 0;
    while (sent < request.size()) {
        const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            const int error = errno;
            close(fd);
            return {false, errno_detail(error, timeout_usec)};
        } else if (!wait_ready(fd, POLLOUT, deadline)) {
            const int error = errno;
            close(fd);
            return {false, errno_detail(error, timeout_usec)};
        }
    }
    // The status line, then (dropped) the rest of the answer until the server closes, 64 KiB, or the
    // deadline: the server is not reset mid-answer, and a status already read stands.
    constexpr size_t kEnough = 64 * 1024;
    char buffer[4096];
    std::string head;
    size_t received = 0;
    int code = 0;
    std::string reason;
    bool have_status = false;
    int error = 0;
    while (received < kEnough) {
        const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) {
                error = errno;
                break;
            }
            if (!wait_ready(fd, POLLIN, deadline)) {
                error = errno;
                break;
            }
            continue;
        }
        received += static_cast<size_t>(n);
        if (have_status) continue;
        head.append(buffer, static_cast<size_t>(n));
        const size_t eol = head.find("\r\n");
        if (eol == std::string::npos && head.size() < 1024) continue;
        if (!parse_status_line(std::string_view(head).substr(0, std::min(eol, head.size())), code, reason)) {
            close(fd);
            return {false, "not an HTTP answer"};
        }
        have_status = true;
    }
    close(fd);
    if (!have_status) {
        if (error != 0) return {false, errno_detail(error, timeout_usec)};
        return {false, received == 0 ? "the connection closed without an answer" : "not an HTTP answer"};
    }
    return {code >= 200 && code < 300, "HTTP " + std::to_string(code) + (reason.empty() ? "" : " " + reason)};
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

// http:// checks are a plain GET over a socket of their own: a few system calls and no allocation beyond the
// request, which matters with hundreds of units checked every second. https:// (and URLs with user
// information) go through Poco.
CheckOutcome check_http(const std::string& url, int64_t timeout_usec) {
    if (std::optional<PlainHttpTarget> target = plain_http_target(url))
        return check_plain_http(*target, timeout_usec);
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
        request.set("User-Agent", kUserAgent);
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
    std::string why;
    const int fd = connect_within(host, port, timeout_usec, why);
    if (fd < 0) return {false, why};
    close(fd);
    return {true, "connected to " + host_port};
}

}  // namespace gitvisor::daemon
