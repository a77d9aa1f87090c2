// RestartSteps= and RestartMaxDelaySec=: the delay of each automatic restart as a pure function (systemd
// 254's service_restart_usec_next()), then the delays a real gitvisor-exec waits (their order only).

#include <time.h>

#include <catch2/catch.hpp>
#include <string>

#include "exec/exit_policy.h"
#include "exec_test_support.h"

using exec_test::ExecProcess;
using exec_test::shell;
using exec_test::SpecBuilder;
using exec_test::TempDir;
using gitvisor::exec::restart_delay_usec;
using gitvisor::exec::Spec;

namespace {

Spec backoff(int64_t restart_usec, int64_t steps, int64_t max_usec) {
    Spec spec;
    spec.restart_usec = restart_usec;
    spec.restart_steps = steps;
    spec.restart_max_delay_usec = max_usec;
    return spec;
}

}  // namespace

TEST_CASE("backoff: the delay grows geometrically to the maximum in RestartSteps= steps") {
    const Spec spec = backoff(100'000, 4, 1'600'000);
    CHECK(restart_delay_usec(spec, 1) == 100'000);
    CHECK(restart_delay_usec(spec, 2) == 200'000);
    CHECK(restart_delay_usec(spec, 3) == 400'000);
    CHECK(restart_delay_usec(spec, 4) == 800'000);
    CHECK(restart_delay_usec(spec, 5) == 1'600'000);
    CHECK(restart_delay_usec(spec, 50) == 1'600'000);
    // Between the ends the steps are geometric, rounded down to the µs.
    const Spec odd = backoff(1'000'000, 3, 8'000'000);
    CHECK(restart_delay_usec(odd, 2) == 2'000'000);
    CHECK(restart_delay_usec(odd, 3) == 4'000'000);
    CHECK(restart_delay_usec(odd, 4) == 8'000'000);
}

TEST_CASE("backoff: without steps, a maximum or a delay, RestartSec= alone counts") {
    CHECK(restart_delay_usec(backoff(100'000, 0, 1'000'000), 5) == 100'000);
    CHECK(restart_delay_usec(backoff(100'000, 5, -1), 5) == 100'000);
    CHECK(restart_delay_usec(backoff(0, 5, 1'000'000), 5) == 0);
    // RestartSec= above the maximum is the maximum (systemd resets it so).
    CHECK(restart_delay_usec(backoff(5'000'000, 5, 1'000'000), 1) == 1'000'000);
    CHECK(restart_delay_usec(backoff(-1, 5, 1'000'000), 1) == -1);
}

TEST_CASE("backoff: the spec carries RestartSteps= and RestartMaxDelaySec=") {
    auto spec = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("restart_steps":3,"restart_max_delay_usec":5000000})");
    REQUIRE(spec);
    CHECK(spec->restart_steps == 3);
    CHECK(spec->restart_max_delay_usec == 5'000'000);
    auto defaults = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}]})");
    REQUIRE(defaults);
    CHECK(defaults->restart_steps == 0);
    CHECK(defaults->restart_max_delay_usec == -1);
    CHECK_FALSE(gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("restart_steps":-1})"));
}

TEST_CASE("backoff: gitvisor-exec waits longer before each restart of a failing service") {
    TempDir dir;
    SpecBuilder spec;
    // Every start appends its CLOCK_MONOTONIC time (from /proc/uptime, centiseconds) and fails at once.
    spec.start(shell("cut -d' ' -f1 /proc/uptime >> " + dir.file("starts") + "; exit 1"))
        .set("restart", "\"on-failure\"")
        .set("restart_usec", "100000")
        .set("restart_steps", "4")
        .set("restart_max_delay_usec", "1600000")
        .set("start_limit_burst", "0");
    ExecProcess exec(dir, spec);
    REQUIRE(exec_test::eventually(
        [&] { return exec_test::lines_of(exec_test::read_file(dir.file("starts"))).size() >= 5; }, 20));
    std::vector<double> starts;
    for (const std::string& line : exec_test::lines_of(exec_test::read_file(dir.file("starts"))))
        starts.push_back(std::stod(line));
    REQUIRE(starts.size() >= 5);
    // Delays of about 0.1, 0.2, 0.4 and 0.8 s: each gap is longer than the one before.
    std::vector<double> gaps;
    for (size_t i = 1; i < 5; ++i) gaps.push_back(starts[i] - starts[i - 1]);
    INFO("gaps " << gaps[0] << " " << gaps[1] << " " << gaps[2] << " " << gaps[3]);
    CHECK(gaps[0] < gaps[1]);
    CHECK(gaps[1] < gaps[2]);
    CHECK(gaps[2] < gaps[3]);
    CHECK(gaps[3] >= 0.7);
}

TEST_CASE("backoff: a run that stays up longer than the longest delay starts a new series") {
    TempDir dir;
    SpecBuilder spec;
    // Runs 1-3 fail at once (delays 0.05, about 0.14 and 0.4 s follow), run 4 stays up 0.6 s, longer than
    // RestartMaxDelaySec=, so the delay after it is RestartSec= again; run 6 stays.
    const std::string starts = dir.file("starts");
    spec.start(shell("cut -d' ' -f1 /proc/uptime >> " + starts + "; n=$$(wc -l < " + starts +
                     "); [ $$n -eq 4 ] && sleep 0.6; [ $$n -ge 6 ] && exec sleep 60; exit 1"))
        .set("restart", "\"on-failure\"")
        .set("restart_usec", "50000")
        .set("restart_steps", "2")
        .set("restart_max_delay_usec", "400000")
        .set("start_limit_burst", "0");
    ExecProcess exec(dir, spec);
    REQUIRE(exec_test::eventually(
        [&] { return exec_test::lines_of(exec_test::read_file(starts)).size() >= 6; }, 20));
    std::vector<double> at;
    for (const std::string& line : exec_test::lines_of(exec_test::read_file(starts)))
        at.push_back(std::stod(line));
    const double before_long_run = at[3] - at[2];       // the third delay: the maximum
    const double after_long_run = at[4] - at[3] - 0.6;  // the delay after run 4, less its 0.6 s
    INFO("delay before the long run " << before_long_run << ", after it " << after_long_run);
    CHECK(before_long_run >= 0.3);
    CHECK(after_long_run < before_long_run / 2);
}
