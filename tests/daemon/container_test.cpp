// gitvisord as a container's entrypoint: on SIGTERM every unit stops in reverse dependency order within
// --shutdown-timeout and the exit status says whether all stopped cleanly; a critical unit that fails for
// good ends everything; as PID 1 (a new PID namespace) container mode is on by itself.

#include <catch2/catch.hpp>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

std::string daemon_args(const DaemonFixture& f, const std::string& extra) {
    return "--repo " + shell_quote(f.repo) + " --state-dir " + shell_quote((f.dir / "state").string()) + " --run-dir " +
           shell_quote((f.dir / "run").string()) + " --exec-path " + shell_quote(exec_binary()) +
           " --cgroup-parent " + f.cgroup_parent() + " --foreground " + extra;
}

// A unit that appends its name to `order` when it has stopped.
std::string recorded(const std::string& name, const std::string& order, const std::string& unit_section = "") {
    return "[Unit]\n" + unit_section + "[Service]\nExecStart=/bin/sleep 1000\nExecStopPost=/bin/sh -c 'echo " + name +
           " >> " + order + "'\n";
}

}  // namespace

TEST_CASE("container mode stops units in reverse dependency order on SIGTERM and exits 0 when all stopped cleanly",
          "[daemon][container]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    const std::string order = (f.dir / "order").string();
    f.write_unit("db.service", recorded("db", order));
    f.write_unit("app.service", recorded("app", order, "After=db.service\nRequires=db.service\n"));
    f.write_unit("proxy.service", recorded("proxy", order, "After=app.service\n"));
    f.commit("three ordered units");
    f.launch_daemon(daemon_args(f, "--container"));
    for (const char* u : {"db", "app", "proxy"}) REQUIRE(eventually([&] { return f.state(u) == "active/running"; }, 20));
    REQUIRE_FALSE(f.cgroup_parents().empty());
    f.signal_daemon(SIGTERM);
    CHECK(f.wait_daemon_exit(60) == 0);
    CHECK(slurp(order) == "proxy\napp\ndb\n");
    // Every unit stopped: their parent cgroup folders are gone with them.
    CHECK(f.cgroup_parents().empty());
}

TEST_CASE("a unit that ignores SIGTERM past the shutdown timeout is killed and the exit status says so",
          "[daemon][container]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.write_unit("stubborn.service", "[Service]\nExecStart=/bin/sh -c 'trap \"\" TERM; while :; do sleep 0.1; done'\n"
                                     "TimeoutStopSec=60\n");
    f.commit("a unit that does not stop");
    f.launch_daemon(daemon_args(f, "--container --shutdown-timeout 2"));
    REQUIRE(eventually([&] { return f.state("stubborn") == "active/running"; }, 20));
    const pid_t pid = f.main_pid("stubborn");
    const auto started = std::chrono::steady_clock::now();
    f.signal_daemon(SIGTERM);
    CHECK(f.wait_daemon_exit(60) == 1);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
    CHECK(eventually([&] { return !process_alive(pid); }, 10));
}

TEST_CASE("a critical unit that fails for good stops everything and gitvisord exits non-zero", "[daemon][container]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    SECTION("Critical=yes: status 3") {
        DaemonFixture f;
        const std::string order = (f.dir / "order").string();
        f.write_unit("other.service", recorded("other", order));
        f.write_unit("main.service", "[Service]\nExecStart=/bin/sh -c 'sleep 1; exit 4'\n[X-Gitvisor]\nCritical=yes\n");
        f.commit("a critical unit that fails");
        f.launch_daemon(daemon_args(f, "--container"));
        CHECK(f.wait_daemon_exit(60) == 3);
        CHECK(slurp(order) == "other\n");
    }
    SECTION("FailureAction=exit with FailureActionExitStatus=7, outside container mode") {
        DaemonFixture f;
        f.write_unit("main.service", "[Unit]\nFailureAction=exit\nFailureActionExitStatus=7\n"
                                     "[Service]\nExecStart=/bin/sh -c 'sleep 1; exit 4'\n");
        f.commit("a unit whose failure ends gitvisord");
        f.launch_daemon(daemon_args(f, "--stop-units-on-exit"));
        CHECK(f.wait_daemon_exit(60) == 7);
    }
}

TEST_CASE("as PID 1 of its namespace gitvisord is in container mode by itself", "[daemon][container]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    if (run("command -v unshare", "/").exit_code != 0) {
        WARN("skipped: unshare (util-linux) is not installed");
        return;
    }
    DaemonFixture f;
    const std::string order = (f.dir / "order").string();
    f.write_unit("only.service", recorded("only", order));
    f.commit("one unit");
    // unshare forks gitvisord as PID 1 of a new PID namespace (and ignores SIGTERM itself): the signal goes
    // to gitvisord, unshare's child.
    f.launch_daemon(daemon_args(f, ""), "unshare --pid --fork --kill-child=SIGKILL --mount-proc");
    REQUIRE(eventually([&] { return f.state("only") == "active/running"; }, 20));
    const std::string pid = std::to_string(f.daemon_pid());
    std::istringstream children(slurp("/proc/" + pid + "/task/" + pid + "/children"));
    pid_t gitvisord = 0;
    children >> gitvisord;
    REQUIRE(gitvisord > 0);
    CHECK(slurp("/proc/" + std::to_string(gitvisord) + "/status").find("NSpid:\t" + std::to_string(gitvisord) + "\t1\n") !=
          std::string::npos);
    // An orphan: a process entered into the namespace (as `docker exec` does) leaves a child behind, which
    // becomes gitvisord's; once it exits, gitvisord reaps it rather than leaving a zombie.
    const std::string marker = (f.dir / "orphan-pid").string();
    REQUIRE(run("nsenter --target " + std::to_string(gitvisord) + " --pid -- /bin/sh -c '/bin/sleep 0.5 & echo $! > " +
                    marker + "'",
                "/")
                .exit_code == 0);
    const auto children_of_gitvisord = [&] {
        std::string all;
        std::error_code ec;
        for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(gitvisord) + "/task", ec))
            all += slurp((task.path() / "children").string());
        return all;
    };
    const auto zombies = [&] {
        int count = 0;
        std::istringstream pids(children_of_gitvisord());
        for (pid_t child; pids >> child;) {
            const std::string stat = slurp("/proc/" + std::to_string(child) + "/stat");
            const size_t close = stat.rfind(')');
            if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z') ++count;
        }
        return count;
    };
    // The orphan was gitvisord's child (the sleep reparented to PID 1 of the namespace) ...
    REQUIRE(eventually([&] { return !slurp(marker).empty(); }, 10));
    // ... and after it exits no zombie is left.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    CHECK(eventually([&] { return zombies() == 0; }, 10));
    kill(gitvisord, SIGTERM);
    CHECK(f.wait_daemon_exit(60) == 0);
    CHECK(slurp(order) == "only\n");
}
