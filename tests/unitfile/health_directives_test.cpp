// gitvisor's health and drain settings ([X-Gitvisor]): typed values, clear errors, and an error when they are
// written in a systemd section, where they would silently do nothing.

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace gitvisor::unitfile;
using namespace gitvisor::unitfile::testing;
using Strings = std::vector<std::string>;

TEST_CASE("health check settings load with typed values", "[loader][health]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "ExecStart=/usr/bin/web\n"
        "[X-Gitvisor]\n"
        "HealthCheckURL=http://127.0.0.1:8080/healthz?deep=1\n"
        "HealthCheckTCP=[::1]:8080\n"
        "HealthCheckExec=/usr/bin/curl -fsS http://localhost/\n"
        "HealthCheckInterval=2s\n"
        "HealthCheckTimeout=500ms\n"
        "HealthCheckRetries=5\n"
        "HealthCheckStartPeriod=1min\n"
        "DrainPorts=8080 8443\n"
        "DrainPorts=9000\n"
        "DrainTimeoutSec=45\n");
    CHECK(messages(u).empty());
    CHECK(*u.unit.get<std::string>("X-Gitvisor", "HealthCheckURL") == "http://127.0.0.1:8080/healthz?deep=1");
    CHECK(*u.unit.get<std::string>("X-Gitvisor", "HealthCheckTCP") == "[::1]:8080");
    const auto* exec = u.unit.get<std::vector<ExecCommand>>("X-Gitvisor", "HealthCheckExec");
    REQUIRE(exec != nullptr);
    REQUIRE(exec->size() == 1);
    CHECK((*exec)[0].argv == Strings{"/usr/bin/curl", "-fsS", "http://localhost/"});
    CHECK(u.unit.get<Duration>("X-Gitvisor", "HealthCheckInterval")->usec == 2000000);
    CHECK(u.unit.get<Duration>("X-Gitvisor", "HealthCheckTimeout")->usec == 500000);
    CHECK(*u.unit.get<int64_t>("X-Gitvisor", "HealthCheckRetries") == 5);
    CHECK(u.unit.get<Duration>("X-Gitvisor", "HealthCheckStartPeriod")->usec == 60000000);
    CHECK(*u.unit.get<Strings>("X-Gitvisor", "DrainPorts") == Strings{"8080", "8443", "9000"});
    CHECK(u.unit.get<Duration>("X-Gitvisor", "DrainTimeoutSec")->usec == 45000000);
}

TEST_CASE("bad health check values are errors naming the line and the cause", "[loader][health]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "ExecStart=/usr/bin/web\n"
        "[X-Gitvisor]\n"
        "HealthCheckURL=ftp://example.org/\n"
        "HealthCheckURL=http:///healthz\n"
        "HealthCheckURL=http://host:99999/\n"
        "HealthCheckURL=http://user:pw@host/\n"
        "HealthCheckTCP=localhost\n"
        "HealthCheckTCP=::1:80\n"
        "HealthCheckTCP=127.0.0.1:0\n"
        "HealthCheckRetries=0\n"
        "DrainPorts=8080 http\n"
        "HealthCheckInterval=often\n");
    const Strings m = messages(u);
    REQUIRE(m.size() == 10);
    CHECK(m[0] == "test.service:4: error: invalid value 'ftp://example.org/' for HealthCheckURL=: not an http:// or "
                  "https:// URL");
    CHECK(m[1] == "test.service:5: error: invalid value 'http:///healthz' for HealthCheckURL=: the URL names no host");
    CHECK(m[2] == "test.service:6: error: invalid value 'http://host:99999/' for HealthCheckURL=: '99999' is not a "
                  "port (1-65535)");
    CHECK(m[3].find("user names and passwords") != std::string::npos);
    CHECK(m[4] == "test.service:8: error: invalid value 'localhost' for HealthCheckTCP=: expected host:port, e.g. "
                  "127.0.0.1:8080");
    CHECK(m[5].find("brackets") != std::string::npos);
    CHECK(m[6].find("'0' is not a port") != std::string::npos);
    CHECK(m[7].starts_with("test.service:11: error: invalid value '0' for HealthCheckRetries="));
    CHECK(m[8] == "test.service:12: error: invalid value '8080 http' for DrainPorts=: 'http' is not a port (1-65535)");
    CHECK(m[9].starts_with("test.service:13: error: invalid value 'often' for HealthCheckInterval="));
}

TEST_CASE("a gitvisor setting in [Service] is an error that names [X-Gitvisor]", "[loader][health]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "ExecStart=/usr/bin/web\n"
        "HealthCheckURL=http://127.0.0.1/\n");
    CHECK(messages(u) == Strings{"test.service:3: error: HealthCheckURL= is a gitvisor setting: write it in the "
                                 "[X-Gitvisor] section, not in [Service]"});
}

TEST_CASE("an empty health check setting restores the default", "[loader][health]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "ExecStart=/usr/bin/web\n"
        "[X-Gitvisor]\n"
        "HealthCheckURL=http://127.0.0.1/\n"
        "HealthCheckExec=/bin/true\n"
        "HealthCheckURL=\n"
        "HealthCheckExec=\n");
    CHECK(messages(u).empty());
    CHECK(u.unit.find("X-Gitvisor", "HealthCheckURL") == nullptr);
    CHECK(u.unit.find("X-Gitvisor", "HealthCheckExec") == nullptr);
}
