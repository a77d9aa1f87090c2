// `gitvisor reload` and `gitvisor kill` through the real gitvisord and gitvisor-exec.

#include <catch2/catch.hpp>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

}  // namespace

TEST_CASE("reload runs ExecReload= and waits for it, kill signals the main process or all", "[daemon][signals]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    f.write_unit("reloadable.service",
                 "[Service]\nExecStart=/bin/sleep 1000\nExecReload=/bin/sh -c 'echo reloaded main=$MAINPID'\n");
    f.write_unit("plain.service", "[Service]\nExecStart=/bin/sleep 1000\n");
    f.write_unit("trap.service",
                 "[Service]\nExecStart=/bin/sh -c 'trap \"echo got USR1\" USR1; echo ready; while :; do sleep 0.05; "
                 "done'\n");
    f.commit("three units");
    REQUIRE(eventually([&] {
        return f.state("reloadable") == "active/running" && f.state("plain") == "active/running" &&
               f.cli("logs trap").out.find("ready") != std::string::npos;
    }));

    const pid_t before = f.main_pid("reloadable");
    const CommandResult reloaded = f.cli("reload reloadable");
    INFO(reloaded.err);
    CHECK(reloaded.exit_code == 0);
    // Done when the command returns: the line is in the log, the main process is the same.
    CHECK(f.cli("logs reloadable").out.find("reloaded main=") != std::string::npos);
    CHECK(f.main_pid("reloadable") == before);
    const CommandResult no_reload = f.cli("reload plain");
    CHECK(no_reload.exit_code == 1);
    CHECK(no_reload.err.find("the unit has no ExecReload=") != std::string::npos);
    CHECK(f.cli("reload nothing").exit_code == 4);

    CHECK(f.cli("kill trap -s SIGUSR1 --kill-whom main").exit_code == 0);
    CHECK(eventually([&] { return f.cli("logs trap").out.find("got USR1") != std::string::npos; }));
    CHECK(f.state("trap") == "active/running");

    CHECK(f.cli("kill plain -s KILL").exit_code == 0);
    CHECK(eventually([&] { return f.state("plain") == "failed/failed"; }));
    CHECK(f.cli("kill plain -s NOSUCH").exit_code == 2);

    // why: a failure, a hold, a unit meant for other hosts, a unit that is not there.
    const CommandResult failed = f.cli("why plain");
    CHECK(failed.exit_code == 0);
    CHECK(failed.out.find("plain.service does not run:\n  - it failed (result signal)") != std::string::npos);
    REQUIRE(f.cli("stop trap").exit_code == 0);
    CHECK(f.cli("why trap").out.find("stopped by `gitvisor stop`") != std::string::npos);
    REQUIRE(f.cli("start trap").exit_code == 0);
    CHECK(f.cli("why trap").out.find("trap.service runs:\n  - trap.service is active (running)") != std::string::npos);
    f.write_unit("elsewhere.service", "[Unit]\nConditionHost=no-such-host\n[Service]\nExecStart=/bin/sleep 1000\n");
    f.commit("a unit for another host");
    REQUIRE(eventually([&] { return f.cli("why elsewhere").out.find("ConditionHost= does not match") != std::string::npos; }));
    CHECK(f.cli("why nothing").out.find("there is no nothing.service in commit") != std::string::npos);

    // reset-failed: the failed unit becomes inactive, the others are left alone.
    const CommandResult reset = f.cli("reset-failed");
    CHECK(reset.exit_code == 0);
    CHECK(reset.out == "plain.service: failed -> inactive\n");
    CHECK(f.state("plain") == "inactive/dead");
    CHECK(f.state("trap") == "active/running");
    CHECK(f.cli("start plain").exit_code == 0);
    CHECK(f.state("plain") == "active/running");
}

TEST_CASE("a Type=notify unit is started once it says READY=1, and status shows its STATUS=", "[daemon][signals]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    const std::string perl =
        "use Socket; socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die; my $a = pack_sockaddr_un($ENV{NOTIFY_SOCKET}); "
        "select(undef, undef, undef, 0.3); send($s, \"READY=1\\nSTATUS=serving 42 requests\", 0, $a); sleep 1000";
    f.write_unit("notify.service", "[Service]\nType=notify\nExecStart=/usr/bin/perl -e '" + perl + "'\n");
    f.commit("a notify unit");
    // The deploy waits for READY=1: once applied, the unit is active.
    REQUIRE(eventually([&] { return f.cli("history -n 1").out.find("applied") != std::string::npos; }));
    CHECK(f.state("notify") == "active/running");
    const CommandResult status = f.cli("status notify");
    CHECK(status.out.find("Status: \"serving 42 requests\"") != std::string::npos);
}
