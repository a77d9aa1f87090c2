#include "exec/exit_policy.h"

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <csignal>

using gitvisor::exec::CleanMode;
using gitvisor::exec::ExitStatusSet;
using gitvisor::exec::is_clean_exit;
using gitvisor::exec::ProcessExit;
using gitvisor::exec::RestartPolicy;
using gitvisor::exec::result_of_exit;
using gitvisor::exec::ServiceResult;
using gitvisor::exec::should_restart;
using gitvisor::exec::Spec;
using gitvisor::exec::StartLimit;

namespace {

ProcessExit exited(int code) { return ProcessExit{code, 0, false}; }
ProcessExit killed(int signal, bool core = false) { return ProcessExit{0, signal, core}; }

}  // namespace

TEST_CASE("exit policy: wait statuses decode") {
    CHECK(ProcessExit::from_wait_status(3 << 8).code == 3);
    const ProcessExit by_signal = ProcessExit::from_wait_status(SIGKILL);
    CHECK(by_signal.signal == SIGKILL);
    CHECK(by_signal.shell_status() == 137);
    const ProcessExit dumped = ProcessExit::from_wait_status(SIGSEGV | 0x80);
    CHECK(dumped.signal == SIGSEGV);
    CHECK(dumped.core_dumped);
    CHECK(exited(7).shell_status() == 7);
}

TEST_CASE("exit policy: clean exits as systemd counts them") {
    const ExitStatusSet none;
    ExitStatusSet listed;
    listed.statuses = {42};
    listed.signals = {SIGUSR1};

    CHECK(is_clean_exit(exited(0), CleanMode::Daemon, &none));
    CHECK_FALSE(is_clean_exit(exited(1), CleanMode::Daemon, &none));
    // A daemon may end by SIGHUP, SIGINT, SIGTERM or SIGPIPE; a command (oneshot, control) may not.
    for (const int sig : {SIGHUP, SIGINT, SIGTERM, SIGPIPE}) {
        CHECK(is_clean_exit(killed(sig), CleanMode::Daemon, &none));
        CHECK_FALSE(is_clean_exit(killed(sig), CleanMode::CodeOnly, &none));
    }
    CHECK_FALSE(is_clean_exit(killed(SIGKILL), CleanMode::Daemon, &none));
    CHECK_FALSE(is_clean_exit(killed(SIGTERM, true), CleanMode::Daemon, &none));
    // SuccessExitStatus=
    CHECK(is_clean_exit(exited(42), CleanMode::CodeOnly, &listed));
    CHECK(is_clean_exit(killed(SIGUSR1), CleanMode::CodeOnly, &listed));
    CHECK_FALSE(is_clean_exit(exited(42), CleanMode::CodeOnly, nullptr));
    CHECK(gitvisor::exec::clean_mode_of_main(gitvisor::exec::ServiceType::Oneshot) == CleanMode::CodeOnly);
    CHECK(gitvisor::exec::clean_mode_of_main(gitvisor::exec::ServiceType::Exec) == CleanMode::Daemon);
}

TEST_CASE("exit policy: results of exits") {
    CHECK(result_of_exit(exited(0), true) == ServiceResult::Success);
    CHECK(result_of_exit(exited(1), false) == ServiceResult::ExitCode);
    CHECK(result_of_exit(killed(SIGKILL), false) == ServiceResult::Signal);
    CHECK(result_of_exit(killed(SIGSEGV, true), false) == ServiceResult::CoreDump);
}

TEST_CASE("exit policy: the Restart= table of SYSTEMD-SYNTAX.md 6") {
    // Rows: clean exit, unclean exit code, unclean signal, core dump, timeout, watchdog.
    struct Row {
        ServiceResult result;
        ProcessExit exit;
    };
    const Row rows[] = {{ServiceResult::Success, exited(0)},
                        {ServiceResult::ExitCode, exited(1)},
                        {ServiceResult::Signal, killed(SIGKILL)},
                        {ServiceResult::CoreDump, killed(SIGSEGV, true)},
                        {ServiceResult::Timeout, killed(SIGKILL)},
                        {ServiceResult::Watchdog, killed(SIGABRT, true)}};
    struct Column {
        RestartPolicy policy;
        bool expected[6];
    };
    const Column columns[] = {
        {RestartPolicy::No, {false, false, false, false, false, false}},
        {RestartPolicy::Always, {true, true, true, true, true, true}},
        {RestartPolicy::OnSuccess, {true, false, false, false, false, false}},
        {RestartPolicy::OnFailure, {false, true, true, true, true, true}},
        {RestartPolicy::OnAbnormal, {false, false, true, true, true, true}},
        {RestartPolicy::OnAbort, {false, false, true, true, false, false}},
        {RestartPolicy::OnWatchdog, {false, false, false, false, false, true}},
    };
    for (const Column& column : columns) {
        Spec spec;
        spec.restart = column.policy;
        for (size_t i = 0; i < 6; ++i) {
            INFO("Restart=" << gitvisor::exec::to_string(column.policy) << " row " << i);
            CHECK(should_restart(spec, rows[i].result, &rows[i].exit) == column.expected[i]);
        }
    }
}

TEST_CASE("exit policy: RestartPreventExitStatus= and RestartForceExitStatus=") {
    Spec spec;
    spec.restart = RestartPolicy::Always;
    spec.restart_prevent_exit_status.statuses = {3};
    spec.restart_prevent_exit_status.signals = {SIGUSR2};
    const ProcessExit three = exited(3);
    const ProcessExit usr2 = killed(SIGUSR2);
    CHECK_FALSE(should_restart(spec, ServiceResult::ExitCode, &three));
    CHECK_FALSE(should_restart(spec, ServiceResult::Signal, &usr2));
    CHECK(should_restart(spec, ServiceResult::ExitCode, nullptr));

    spec.restart = RestartPolicy::No;
    spec.restart_force_exit_status.statuses = {5};
    const ProcessExit five = exited(5);
    CHECK(should_restart(spec, ServiceResult::ExitCode, &five));
    // Prevent wins over force.
    spec.restart_prevent_exit_status.statuses = {5};
    CHECK_FALSE(should_restart(spec, ServiceResult::ExitCode, &five));
}

TEST_CASE("exit policy: the start limit is a fixed window counting every start") {
    StartLimit limit(10'000'000, 3);
    CHECK(limit.allow(1'000'000));
    CHECK(limit.allow(2'000'000));
    CHECK(limit.allow(3'000'000));
    CHECK_FALSE(limit.allow(4'000'000));
    CHECK_FALSE(limit.allow(10'900'000));
    // A new window once the interval has passed since the window opened.
    CHECK(limit.allow(11'000'001));
    CHECK(limit.allow(11'000'002));

    // An infinite interval: the window never ends.
    StartLimit forever(-1, 2);
    CHECK(forever.allow(1));
    CHECK(forever.allow(2));
    CHECK_FALSE(forever.allow(1'000'000'000'000));

    StartLimit off(0, 1);
    for (int i = 0; i < 100; ++i) CHECK(off.allow(i));
    StartLimit no_burst(10'000'000, 0);
    for (int i = 0; i < 100; ++i) CHECK(no_burst.allow(i));
}
