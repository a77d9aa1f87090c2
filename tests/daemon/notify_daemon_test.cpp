// gitvisord under a service manager (packaging/systemd/gitvisord.service, Type=notify): READY=1 on
// $NOTIFY_SOCKET once it serves its control socket, STOPPING=1 when it exits, and no unit inherits the
// variable.

#include <sys/socket.h>
#include <sys/un.h>

#include <catch2/catch.hpp>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

TEST_CASE("gitvisord tells its service manager it is ready, and its units do not see NOTIFY_SOCKET",
          "[daemon][notify]") {
    DaemonFixture f;
    const std::string path = (f.dir / "notify.sock").string();
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    const std::string env_file = (f.dir / "unit-env").string();
    f.write_unit("env.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'env > " +
                                    env_file + "'\n");
    f.commit("a unit that writes its environment");
    f.launch_daemon("--repo " + shell_quote(f.repo) + " --state-dir " + shell_quote((f.dir / "state").string()) +
                        " --run-dir " + shell_quote((f.dir / "run").string()) + " " + f.standard_flags(),
                    "env NOTIFY_SOCKET=" + shell_quote(path));
    const auto receive = [&](int timeout_ms) {
        timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buffer[1024];
        const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
    };
    const std::string ready = receive(5000);
    CHECK(ready.find("READY=1\n") == 0);
    CHECK(ready.find("STATUS=watching " + f.repo) != std::string::npos);
    REQUIRE(eventually([&] { return f.state("env") == "active/exited"; }, 20));
    const std::string unit_env = slurp(env_file);
    CHECK_FALSE(unit_env.empty());
    CHECK(unit_env.find("NOTIFY_SOCKET") == std::string::npos);
    f.stop_daemon(SIGTERM);
    CHECK(receive(5000) == "STOPPING=1");
    close(fd);
}

TEST_CASE("WatchdogSec= on a Type=simple unit: its pings keep it, its silence fails it with result watchdog",
          "[daemon][notify]") {
    if (geteuid() != 0) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    // No NotifyAccess=: WatchdogSec= lets the main process send (systemd.service(5)). Pings for about 1.5 s
    // (three times the limit), then hangs.
    const std::string perl =
        "use Socket; socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die; my $a = pack_sockaddr_un($ENV{NOTIFY_SOCKET});"
        " for (1..15) { select(undef, undef, undef, 0.1); send($s, q(WATCHDOG=1), 0, $a); } sleep 60;";
    f.write_unit("pinger.service", "[Service]\nExecStart=/usr/bin/perl -e '" + perl + "'\nWatchdogSec=500ms\n");
    f.commit("a unit with a watchdog");
    f.start_daemon();
    REQUIRE(eventually([&] { return f.state("pinger") == "active/running"; }, 20));
    CHECK(eventually([&] { return f.state("pinger") == "failed/failed"; }, 30));
    CHECK(f.status_json("pinger")->getValue<std::string>("result") == "watchdog");
    CHECK(f.cli("logs pinger -n 20").out.find("watchdog timeout (limit 500 ms)") != std::string::npos);
}
