// gitvisor-exec as gitvisord starts it: PID 1 of a new PID and mount namespace (root only), and joining a
// cgroup the test makes for itself.

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <string>

#include "exec_test_support.h"

using exec_test::command;
using exec_test::ExecProcess;
using exec_test::Mode;
using exec_test::shell;
using exec_test::SpecBuilder;
using exec_test::TempDir;

namespace {

// A v1 pids cgroup made under the test's own, removed (with its processes gone) on destruction.
class TestCgroup {
public:
    TestCgroup() {
        for (const std::string& line : exec_test::lines_of(exec_test::read_file("/proc/self/cgroup"))) {
            const size_t colon = line.find(':');
            if (colon == std::string::npos || line.substr(colon + 1, 5) != "pids:") continue;
            const std::string own = line.substr(colon + 6);
            m_dir = "/sys/fs/cgroup/pids" + (own == "/" ? "" : own) + "/gitvisor-exec-test-" +
                    std::to_string(::getpid());
        }
        if (!m_dir.empty() && ::mkdir(m_dir.c_str(), 0755) != 0) m_dir.clear();
    }
    ~TestCgroup() {
        if (m_dir.empty()) return;
        // The cgroup can go once its last process has been reaped (ExecProcess does that first).
        exec_test::eventually([&] { return ::rmdir(m_dir.c_str()) == 0 || errno == ENOENT; }, 5.0);
    }
    bool ok() const { return !m_dir.empty(); }
    std::string procs() const { return m_dir + "/cgroup.procs"; }

private:
    std::string m_dir;
};

}  // namespace

TEST_CASE("namespace: the service sees its own PID namespace and /proc") {
    EXEC_TEST_SKIP_UNLESS_ROOT("a PID namespace");
    TempDir dir;
    SpecBuilder spec;
    // The main process reports what it sees, then stays ("$$$$" is the shell's "$$" after gitvisor-exec's
    // own $ expansion).
    spec.start(shell("echo pid=$$$$; echo procs=$(ls -d /proc/[0-9]* | wc -l); exec sleep 60"));
    ExecProcess exec(dir, spec, Mode::Namespace);
    REQUIRE(exec.wait_state("active/running"));
    REQUIRE(exec.wait_log("procs="));

    CHECK(exec.field("exec_pid") == "1");
    const std::string main_pid = exec.field("main_pid");
    CHECK(main_pid == "2");
    // gitvisor-exec is PID 1 inside: NSpid lists its host pid and 1.
    CHECK(exec_test::ns_pids(exec.pid()) == std::vector<pid_t>{exec.pid(), 1});
    const pid_t main_host = exec.main_host_pid();
    REQUIRE(main_host > 0);
    const std::vector<pid_t> ids = exec_test::ns_pids(main_host);
    REQUIRE(ids.size() == 2);
    CHECK(ids[0] == main_host);
    CHECK(std::to_string(ids[1]) == main_pid);
    CHECK(exec.log().find(" pid=" + main_pid + "\n") != std::string::npos);
    // /proc inside shows the namespace only: gitvisor-exec, the shell, its $(...) subshell, ls and wc.
    const std::string log = exec.log();
    const size_t at = log.find("procs=");
    const int procs = std::stoi(log.substr(at + 6));
    CHECK(procs >= 3);
    CHECK(procs <= 5);
}

TEST_CASE("namespace: orphans are reaped and everything dies with the stop") {
    EXEC_TEST_SKIP_UNLESS_ROOT("a PID namespace");
    TempDir dir;
    SpecBuilder spec;
    // A daemonised grandchild (re-parented to gitvisor-exec) and a short-lived orphan.
    spec.start(shell("(setsid sleep 1000 &); (sleep 0.1 &); echo forked; exec sleep 60"));
    ExecProcess exec(dir, spec, Mode::Namespace);
    REQUIRE(exec.wait_log("forked"));
    // The short orphan is reaped by gitvisor-exec, not left a zombie.
    CHECK(exec_test::eventually([&] {
        for (const pid_t pid : gitvisor::exec::list_descendants(exec.pid())) {
            if (exec_test::process_gone(pid)) return false;  // a zombie
        }
        return gitvisor::exec::list_descendants(exec.pid()).size() == 2;
    }));
    const std::vector<pid_t> service = gitvisor::exec::list_descendants(exec.pid());
    CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
    CHECK(exec.wait_exit() == 128 + SIGTERM);
    CHECK(exec.state() == "inactive/dead");
    for (const pid_t pid : service) CHECK(exec_test::process_gone(pid));
}

TEST_CASE("namespace: gitvisor-exec joins the cgroups it is given, as do its commands") {
    EXEC_TEST_SKIP_UNLESS_ROOT("cgroups");
    TestCgroup cgroup;
    if (!cgroup.ok()) {
        WARN("skipped: no v1 pids hierarchy to make a test cgroup in");
        return;
    }
    TempDir dir;
    {
        SpecBuilder spec;
        spec.start(command({"sleep", "60"}))
            .set("cgroup_procs", exec_test::list({gitvisor::json_quote(cgroup.procs())}));
        ExecProcess exec(dir, spec, Mode::Plain);
        REQUIRE(exec.wait_state("active/running"));
        const std::string procs = exec_test::read_file(cgroup.procs());
        CHECK(procs.find(std::to_string(exec.pid()) + "\n") != std::string::npos);
        CHECK(procs.find(std::to_string(exec.main_host_pid()) + "\n") != std::string::npos);
        CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
        CHECK(exec.wait_exit() == 128 + SIGTERM);
    }
    CHECK(exec_test::read_file(cgroup.procs()).empty());
}

TEST_CASE("namespace: a cgroup that cannot be joined fails the unit at step CGROUP") {
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"}))
        .set("cgroup_procs",
             exec_test::list({gitvisor::json_quote(dir.file("no-such-cgroup/cgroup.procs"))}));
    ExecProcess exec(dir, spec, Mode::Plain);
    CHECK(exec.wait_exit() == 1);
    CHECK(exec.state() == "failed/failed");
    CHECK(exec.field("result") == "resources");
    CHECK(exec.field("failed_step") == "CGROUP");
    CHECK(exec.field("error") == "No such file or directory");
    CHECK(exec.field("main_pid") == "0");
}

TEST_CASE("namespace: without a mount namespace of its own, PID 1 leaves the mounts alone") {
    EXEC_TEST_SKIP_UNLESS_ROOT("a PID namespace");
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"}));
    // CLONE_NEWPID only: a fresh /proc mounted by gitvisor-exec would replace the test's own.
    ExecProcess exec(dir, spec, Mode::PidNamespaceOnly);
    REQUIRE(exec.wait_state("active/running"));
    CHECK(exec.field("exec_pid") == "1");
    char self[64] = {};
    REQUIRE(::readlink("/proc/self", self, sizeof self - 1) > 0);
    CHECK(std::string(self) == std::to_string(::getpid()));
    CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
    CHECK(exec.wait_exit() == 128 + SIGTERM);
}
