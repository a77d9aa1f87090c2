#pragma once
// A unit's health check ([X-Gitvisor] HealthCheck*=, DESIGN §4) and the probes that run one check.
//
// Probes block for at most the check's timeout and never throw: the outcome says healthy or not and why,
// in words an operator reads in `gitvisor status` ("HTTP 503 Service Unavailable", "connection refused").

#include <cstdint>
#include <string>

namespace gitvisor::unitfile {
struct Unit;
}

namespace gitvisor::daemon {

struct HealthSpec {
    enum class Kind { None, Url, Tcp, Exec };
    Kind kind = Kind::None;
    std::string target;  // the URL or host:port; empty for Exec (the command is in the unit's spec)
    int64_t interval_usec = 30'000'000;
    int64_t timeout_usec = 5'000'000;
    int64_t start_period_usec = 0;
    int retries = 3;

    bool enabled() const { return kind != Kind::None; }
    bool operator==(const HealthSpec&) const = default;
};

// The unit's check; Kind::None when it has none. HealthCheckURL= wins over HealthCheckTCP=, which wins over
// HealthCheckExec= when a unit names several (the loader warns about that).
HealthSpec health_spec_of(const unitfile::Unit& unit);
const char* to_string(HealthSpec::Kind kind);

struct CheckOutcome {
    bool healthy = false;
    std::string detail;  // "HTTP 200 OK", "connection refused", "timed out after 5 s", "exit status 1"
};

// HTTP GET of `url` (http://, and https:// when gitvisor was built with Poco NetSSL; the certificate is not
// verified, as Kubernetes does for its HTTPS probes): a 2xx answer within `timeout_usec` is healthy.
CheckOutcome check_http(const std::string& url, int64_t timeout_usec);
// A TCP connection to host:port ([v6]:port) opens within `timeout_usec`.
CheckOutcome check_tcp(const std::string& host_port, int64_t timeout_usec);

}  // namespace gitvisor::daemon
