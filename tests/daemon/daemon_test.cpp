// The real gitvisord, gitvisor-exec and gitvisor on a real repository: a commit deploys.

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

const std::string kSleeper =
    "[Unit]\nDescription=sleeps\n[Service]\nExecStart=/bin/sleep 1000\nRestart=on-failure\nRestartSec=0\n"
    "MemoryMax=64M\nTasksMax=32\n";

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::string s;
    std::getline(in, s, '\0');
    return s;
}

}  // namespace

TEST_CASE("a commit deploys: start, change, comment-only change, removal", "[daemon]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    f.write_unit("web.service", kSleeper);
    f.commit("add web");
    REQUIRE(eventually([&] { return f.state("web") == "active/running" && f.main_pid("web") > 0; }));
    const pid_t first = f.main_pid("web");

    // The main process runs in its own PID namespace (two NSpid entries) and in the unit's cgroup.
    const std::string status = read_file("/proc/" + std::to_string(first) + "/status");
    const size_t nspid = status.find("NSpid:");
    REQUIRE(nspid != std::string::npos);
    const std::string nspid_line = status.substr(nspid, status.find('\n', nspid) - nspid);
    CHECK(std::count(nspid_line.begin(), nspid_line.end(), '\t') == 2);
    const std::string cgroups = read_file("/proc/" + std::to_string(first) + "/cgroup");
    CHECK(cgroups.find(f.cgroup_parent() + "/web.service") != std::string::npos);
    const auto s = f.status_json("web");
    CHECK(s->getValue<std::string>("cgroup").find(f.cgroup_parent() + "/web.service") != std::string::npos);
    CHECK(s->getValue<int64_t>("ns_pid") > 0);
    CHECK(s->getValue<int64_t>("exec_pid") > 0);
    // The memory limit is in the cgroup's file (v1 here; memory.max on cgroup v2).
    bool limit_found = false;
    for (const auto& line : {std::string("/sys/fs/cgroup/memory"), std::string("/sys/fs/cgroup")}) {
        std::istringstream in(cgroups);
        for (std::string l; std::getline(in, l);) {
            const size_t colon = l.rfind(':');
            const std::string path = l.substr(colon + 1);
            for (const char* file : {"/memory.limit_in_bytes", "/memory.max"}) {
                const std::string v = read_file(line + path + file);
                if (v.starts_with(std::to_string(64 * 1024 * 1024))) limit_found = true;
            }
        }
    }
    CHECK(limit_found);

    SECTION("a comment-only change restarts nothing; a real change restarts") {
        f.write_unit("web.service", "# a comment\n" + kSleeper + "\n\n");
        const size_t before = f.deployments();
        f.commit("comment only");
        REQUIRE(eventually([&] { return f.deployments() > before; }));
        CHECK(f.main_pid("web") == first);
        // `cat` shows the file as committed, comment included.
        CHECK(f.cli("cat web").out.find("# a comment\n") != std::string::npos);

        f.write_unit("web.service", kSleeper + "Environment=VERSION=2\n");
        f.commit("change web");
        REQUIRE(eventually([&] { return f.restarted("web", first); }));
        CHECK_FALSE(process_alive(first));
    }
    SECTION("removing the unit stops every process of it") {
        f.write_unit("web.service", "");
        std::filesystem::remove(f.dir / "units/web.service");
        f.commit("remove web");
        REQUIRE(eventually([&] { return f.cli("status web").exit_code == 4; }));
        CHECK(eventually([&] { return !process_alive(first); }));
    }
    SECTION("kill -9 of the main process restarts it per Restart=") {
        kill(first, SIGKILL);
        REQUIRE(eventually([&] { return f.restarted("web", first); }));
        CHECK(f.status_json("web")->getValue<int64_t>("restarts") == 1);
    }
}

TEST_CASE("a commit with a broken unit is rejected and changes nothing", "[daemon]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    f.write_unit("a.service", kSleeper);
    f.write_unit("b.service", kSleeper);
    f.commit("two units");
    REQUIRE(eventually([&] { return f.main_pid("a") > 0 && f.main_pid("b") > 0; }));
    const pid_t a = f.main_pid("a");
    f.write_unit("a.service", kSleeper + "Environment=X=1\n");
    f.write_unit("broken.service", "[Service]\nExecStart=/bin/true\nRestart=sometimes\n");
    const size_t before = f.deployments();
    f.commit("break it");
    REQUIRE(eventually([&] { return f.deployments() > before; }));
    CHECK(f.main_pid("a") == a);
    CHECK(f.cli("status broken").exit_code == 4);
    const CommandResult history = f.cli("--json history -n 1");
    Poco::JSON::Parser parser;
    const auto d = parser.parse(history.out).extract<Poco::JSON::Array::Ptr>()->getObject(0);
    CHECK(d->getValue<std::string>("result") == "rejected");
    const auto e = d->getArray("errors")->getObject(0);
    CHECK(e->getValue<std::string>("file") == "broken.service");
    CHECK(e->getValue<int>("line") == 3);
    CHECK(e->getValue<std::string>("message").starts_with("invalid value 'sometimes' for Restart="));
}

TEST_CASE("a manual stop holds across unrelated deploys, start needs a deployed unit", "[daemon]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    f.write_unit("a.service", kSleeper);
    f.commit("a");
    REQUIRE(eventually([&] { return f.main_pid("a") > 0; }));
    const pid_t a = f.main_pid("a");
    CHECK(f.cli("stop a").exit_code == 0);
    CHECK_FALSE(process_alive(a));
    CHECK(f.cli("status a").exit_code == 3);
    f.write_unit("other.service", kSleeper);
    const size_t before = f.deployments();
    f.commit("unrelated");
    REQUIRE(eventually([&] { return f.deployments() > before && f.main_pid("other") > 0; }));
    CHECK(f.state("a") == "inactive/dead");
    CHECK(f.cli("start a").exit_code == 0);
    CHECK(eventually([&] { return f.main_pid("a") > 0; }));
    const CommandResult missing = f.cli("start nope");
    CHECK(missing.exit_code == 4);
    CHECK(missing.err == "gitvisor: error: cannot start 'nope': no such unit 'nope.service' in the deployed commit\n");
}

TEST_CASE("units outlive a killed daemon, and a new daemon re-adopts them", "[daemon]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    f.write_unit("a.service", kSleeper);
    f.commit("a");
    REQUIRE(eventually([&] { return f.main_pid("a") > 0; }));
    const pid_t a = f.main_pid("a");
    f.stop_daemon(SIGKILL);
    CHECK(process_alive(a));
    f.start_daemon();
    CHECK(f.state("a") == "active/running");
    CHECK(f.main_pid("a") == a);
    // Still supervised: a crash is restarted by gitvisor-exec, seen by the new daemon.
    kill(a, SIGKILL);
    CHECK(eventually([&] { return f.restarted("a", a); }));
}

TEST_CASE("a caller without rights can read but not change", "[daemon]") {
    if (!is_root()) {
        WARN("skipped: needs root to act as another user");
        return;
    }
    DaemonFixture f;
    chmod(f.dir.path().c_str(), 0755);
    f.start_daemon();
    f.write_unit("a.service", kSleeper);
    f.commit("a");
    REQUIRE(eventually([&] { return f.main_pid("a") > 0; }));
    const std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    const std::string cli = shell_quote(gitvisor_binary()) + " --socket " +
                            shell_quote((f.dir / "run/control.sock").string());
    CHECK(run(as_nobody + cli + " status a", f.dir.path()).exit_code == 0);
    const CommandResult refused = run(as_nobody + cli + " stop a", f.dir.path());
    CHECK(refused.exit_code == 5);
    CHECK(refused.err.find("permission denied") != std::string::npos);
    CHECK(f.main_pid("a") > 0);
}
