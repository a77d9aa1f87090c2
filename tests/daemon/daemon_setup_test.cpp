// How gitvisord is started: as an unprivileged user, from an ini file, and over a state file that is not
// a database.

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

constexpr uid_t kNobody = 65534;
const std::string kAsNobody = "setpriv --reuid=65534 --regid=65534 --clear-groups";

const std::string kSleeper = "[Service]\nExecStart=/bin/sleep 1000\n";

std::vector<int64_t> nspid_of(pid_t pid) {
    std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/status"));
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("NSpid:")) continue;
        std::istringstream fields(line.substr(6));
        std::vector<int64_t> out;
        for (int64_t v; fields >> v;) out.push_back(v);
        return out;
    }
    return {};
}

uid_t owner_uid(pid_t pid) {
    std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/status"));
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("Uid:")) continue;
        std::istringstream fields(line.substr(4));
        uid_t real = 0;
        fields >> real;
        return real;
    }
    return static_cast<uid_t>(-1);
}

// The daemon's command line with the fixture's paths; run in the foreground of the test with a time limit,
// for start-ups that must fail.
std::string daemon_command(const DaemonFixture& f, const std::string& flags) {
    return "timeout 20 " + shell_quote(gitvisord_binary()) + " " + flags + " " + f.standard_flags();
}

std::string path_flags(const DaemonFixture& f) {
    return "--repo " + shell_quote(f.repo) + " --state-dir " + shell_quote((f.dir / "state").string()) +
           " --run-dir " + shell_quote((f.dir / "run").string());
}

}  // namespace

TEST_CASE("gitvisord run by an unprivileged user runs units without namespaces and cgroups",
          "[daemon][setup]") {
    if (!is_root()) {
        WARN("skipped: needs root to run gitvisord as another user");
        return;
    }
    DaemonFixture f;
    // The user reaches the test folder and owns the state and run folders; the repository stays root's, as
    // when a deploy user other than the daemon's owns it.
    chmod(f.dir.path().c_str(), 0755);
    for (const char* sub : {"state", "run"}) {
        std::filesystem::create_directories(f.dir / sub);
        REQUIRE(chown((f.dir / sub).c_str(), kNobody, kNobody) == 0);
    }
    f.launch_daemon(path_flags(f) + " " + f.standard_flags(), kAsNobody);

    const CommandResult status = f.cli("status");
    CHECK(status.exit_code == 0);
    CHECK(status.out.find("without PID namespaces and cgroups") != std::string::npos);
    const Poco::Dynamic::Var json = f.cli_json("status");
    REQUIRE_FALSE(json.isEmpty());
    CHECK(json.extract<Poco::JSON::Object::Ptr>()
              ->getValue<std::string>("isolation")
              .find("without PID namespaces and cgroups") != std::string::npos);

    f.write_unit("a.service", kSleeper);
    f.commit("a");
    REQUIRE(eventually([&] { return f.state("a") == "active/running" && f.main_pid("a") > 0; }));
    const pid_t main = f.main_pid("a");
    CHECK(nspid_of(main).size() == 1);
    CHECK(owner_uid(main) == kNobody);
    const auto s = f.status_json("a");
    CHECK(s->getValue<int64_t>("ns_pid") == main);
    CHECK(s->getValue<std::string>("cgroup").empty());
    CHECK(s->isNull("memory_bytes"));
    // Still supervised: a change restarts it.
    f.write_unit("a.service", kSleeper + "Environment=X=1\n");
    f.commit("change a");
    REQUIRE(eventually([&] { return f.restarted("a", main); }));
    CHECK_FALSE(process_alive(main));
}

TEST_CASE("settings come from the gitvisord section of --config FILE", "[daemon][setup]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    const std::string ini = (f.dir / "gitvisord.ini").string();
    f.dir.write("gitvisord.ini", "; gitvisord settings\n[gitvisord]\nrepo = " + f.repo +
                                     "\nstate-dir = " + (f.dir / "state").string() +
                                     "\nrun-dir = " + (f.dir / "run").string() + "\n");

    SECTION("the file's paths are used") {
        f.launch_daemon("--config " + shell_quote(ini) + " " + f.standard_flags());
        CHECK(std::filesystem::exists(f.dir / "state/state.db"));
        CHECK(std::filesystem::exists(f.dir / "run/control.sock"));
        f.write_unit("a.service", kSleeper);
        f.commit("a");
        REQUIRE(eventually([&] { return f.main_pid("a") > 0; }));
        CHECK(std::filesystem::exists(f.dir / "run/units/a.service/spec.json"));
        CHECK(f.status_json("a")->getValue<std::string>("commit") == f.tip());
    }
    SECTION("a flag wins over the file") {
        std::filesystem::create_directories(f.dir / "other");
        f.launch_daemon("--config " + shell_quote(ini) + " --state-dir " +
                        shell_quote((f.dir / "other").string()) + " " + f.standard_flags());
        CHECK(std::filesystem::exists(f.dir / "other/state.db"));
        CHECK_FALSE(std::filesystem::exists(f.dir / "state/state.db"));
    }
    SECTION("a yes-or-no setting in the file means what it says, and is off when absent") {
        const std::string value = GENERATE(as<std::string>(), "", "no", "yes");
        const bool stop = value == "yes";
        if (!value.empty()) std::ofstream(ini, std::ios::app) << "stop-units-on-exit = " << value << "\n";
        f.launch_daemon("--config " + shell_quote(ini) + " --exec-path " + shell_quote(exec_binary()) +
                        " --cgroup-parent " + f.cgroup_parent() + " --foreground");
        f.write_unit("a.service", kSleeper);
        f.commit("a");
        REQUIRE(eventually([&] { return f.main_pid("a") > 0; }));
        const pid_t a = f.main_pid("a");
        f.stop_daemon(SIGTERM);
        CHECK(process_alive(a) == !stop);
    }
    SECTION("the file is read as ini whatever its name ends with") {
        std::filesystem::rename(ini, f.dir / "gitvisord.conf");
        f.launch_daemon("--config " + shell_quote((f.dir / "gitvisord.conf").string()) + " " +
                        f.standard_flags());
        CHECK(std::filesystem::exists(f.dir / "state/state.db"));
    }
    SECTION("a settings file that is named but missing is an error") {
        // With the paths as flags too, so that a daemon that ignored the error would still stay in the test's
        // folder.
        const std::string missing = (f.dir / "missing.ini").string();
        const CommandResult r =
            run(daemon_command(f, "--config " + shell_quote(missing) + " " + path_flags(f)), f.dir.path());
        CHECK(r.exit_code != 0);
        CHECK(r.exit_code != 124);
        CHECK(r.err == "gitvisord: error: cannot read settings file '" + missing +
                           "': File not found: " + missing + "\n");
        CHECK_FALSE(std::filesystem::exists(f.dir / "state"));
    }
}

TEST_CASE("a state file that is not a database stops start-up and is left as it was", "[daemon][setup]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    std::string garbage = "this is not an SQLite database\n";
    for (int i = 0; garbage.size() < 8192; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) % 256));
    f.dir.write("state/state.db", garbage);
    const std::string db = (f.dir / "state/state.db").string();

    const CommandResult r = run(daemon_command(f, path_flags(f)), f.dir.path());
    CHECK(r.exit_code != 0);
    CHECK(r.exit_code != 124);  // it refused, rather than running until the time limit
    INFO(r.err);
    CHECK(r.err.find("gitvisord: error:") != std::string::npos);
    CHECK(r.err.find(db) != std::string::npos);
    CHECK(r.err.find("not a database") != std::string::npos);
    CHECK(slurp(db) == garbage);
    CHECK_FALSE(std::filesystem::exists(db + "-wal"));
    CHECK_FALSE(std::filesystem::exists(f.dir / "run/control.sock"));
}
