// ProtectSystem=, ProtectHome=, ReadOnlyPaths=, ReadWritePaths=, InaccessiblePaths=: the plan as a pure
// function, then the real gitvisor-exec (root only: it mounts in a mount namespace of its own, never in
// the test's).

#include "exec/protect.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "exec/spec.h"
#include "exec_test_support.h"

using exec_test::command;
using exec_test::ExecProcess;
using exec_test::list;
using exec_test::Mode;
using exec_test::quoted_list;
using exec_test::shell;
using exec_test::SpecBuilder;
using exec_test::TempDir;
using gitvisor::exec::MountEntry;
using gitvisor::exec::MountMode;

namespace {

std::vector<MountEntry> plan(const std::string& fields, const std::vector<std::string>& writable = {}) {
    auto spec = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}])" +
        fields + "}");
    INFO(spec.error());
    REQUIRE(spec);
    auto planned = gitvisor::exec::plan_mounts(gitvisor::exec::protection_entries(*spec, writable),
                                               [](const std::string& path) { return path; });
    INFO(planned.error());
    REQUIRE(planned);
    return *planned;
}

// A file the test puts where the unit must not reach, removed whatever happens.
class HostFile {
public:
    HostFile(std::string path, const std::string& text) : m_path(std::move(path)) {
        exec_test::write_file(m_path, text);
    }
    ~HostFile() { ::unlink(m_path.c_str()); }
    HostFile(const HostFile&) = delete;
    HostFile& operator=(const HostFile&) = delete;
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

Mode generate_mode() {
    const Mode mode = GENERATE(Mode::Plain, Mode::Namespace);
    return mode;
}

}  // namespace

TEST_CASE("protect: the spec reads the settings and names a wrong one") {
    auto spec = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("protect_system":"strict","protect_home":"read-only","read_only_paths":["-/a"],)"
        R"("read_write_paths":["+/b"],"inaccessible_paths":["/c"]})");
    REQUIRE(spec);
    CHECK(spec->protect_system == gitvisor::exec::ProtectSystem::Strict);
    CHECK(spec->protect_home == gitvisor::exec::ProtectHome::ReadOnly);
    CHECK(spec->read_only_paths == std::vector<std::string>{"-/a"});
    CHECK(gitvisor::exec::wants_protection(*spec));
    const std::string base =
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)";
    CHECK(gitvisor::exec::parse_spec(base + R"("protect_system":"Yes"})").error() ==
          "field 'protect_system': unknown value 'Yes'");
    CHECK(gitvisor::exec::parse_spec(base + R"("read_write_paths":["-relative"]})").error() ==
          "field 'read_write_paths': '-relative' is not an absolute path");
}

TEST_CASE("protect: paths compare component by component") {
    using gitvisor::exec::compare_paths;
    using gitvisor::exec::path_is_under;
    CHECK(compare_paths("/a", "/a/b") < 0);
    CHECK(compare_paths("/a/b", "/a-b") < 0);
    CHECK(compare_paths("/a/", "/a") == 0);
    CHECK(compare_paths("/", "/usr") < 0);
    CHECK(path_is_under("/usr/lib", "/usr"));
    CHECK(path_is_under("/usr", "/usr"));
    CHECK(path_is_under("/usr", "/"));
    CHECK_FALSE(path_is_under("/usrx", "/usr"));
    CHECK_FALSE(path_is_under("/", "/usr"));
}

TEST_CASE("protect: ProtectSystem= and ProtectHome= plan systemd's paths") {
    CHECK(plan(R"(,"protect_system":"yes")") ==
          std::vector<MountEntry>{{"/boot", MountMode::ReadOnly, true},
                                  {"/efi", MountMode::ReadOnly, true},
                                  {"/usr", MountMode::ReadOnly, false}});
    CHECK(plan(R"(,"protect_system":"full")").size() == 4);
    CHECK(plan(R"(,"protect_home":"tmpfs")") ==
          std::vector<MountEntry>{{"/home", MountMode::Tmpfs, true},
                                  {"/root", MountMode::Tmpfs, true},
                                  {"/run/user", MountMode::Tmpfs, true}});
    // strict: everything read-only but the API file systems; ProtectHome= decides for the homes.
    CHECK(plan(R"(,"protect_system":"strict","protect_home":"yes")") ==
          std::vector<MountEntry>{{"/", MountMode::ReadOnly, false},
                                  {"/dev", MountMode::ReadWriteImplicit, false},
                                  {"/home", MountMode::Inaccessible, true},
                                  {"/proc", MountMode::ReadWriteImplicit, false},
                                  {"/root", MountMode::Inaccessible, true},
                                  {"/run/user", MountMode::Inaccessible, true},
                                  {"/sys", MountMode::ReadWriteImplicit, false}});
}

TEST_CASE("protect: the strongest mode wins, hidden and redundant entries go") {
    const auto entries =
        plan(R"(,"protect_system":"yes","read_only_paths":["/usr/share","-/srv/a"],)"
             R"("read_write_paths":["/usr/local","/srv/a"],"inaccessible_paths":["/srv","+/srv/b/c"])",
             {"/var/lib/app"});
    CHECK(entries == std::vector<MountEntry>{{"/boot", MountMode::ReadOnly, true},
                                             {"/efi", MountMode::ReadOnly, true},
                                             {"/srv", MountMode::Inaccessible, false},
                                             {"/usr", MountMode::ReadOnly, false},
                                             {"/usr/local", MountMode::ReadWrite, false},
                                             {"/var/lib/app", MountMode::ReadWrite, true}});
}

TEST_CASE("protect: a missing path is an error unless it may be missing") {
    auto spec = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("read_only_paths":["-/gone","/also-gone"],"protect_home":"yes"})");
    REQUIRE(spec);
    auto planned = gitvisor::exec::plan_mounts(gitvisor::exec::protection_entries(*spec, {}),
                                               [](const std::string&) { return std::string(); });
    REQUIRE_FALSE(planned);
    CHECK(planned.error() == "'/also-gone' does not exist");
}

TEST_CASE("protect: ProtectSystem=yes makes /usr read-only, a ReadWritePaths= directory stays writable") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    const std::string writable = dir.file("rw");
    ::mkdir(writable.c_str(), 0755);
    // Should the protection fail, the test's file in /usr goes again.
    const HostFile guard("/usr/.gitvisor-protect-test-" + std::to_string(::getpid()), "");
    ::unlink(guard.path().c_str());
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("exec_start", list({shell("touch " + guard.path() + " || echo usr=refused; echo written > " +
                                       writable + "/file && echo rw=written")}))
        .set("protect_system", "\"yes\"")
        .set("read_write_paths", quoted_list({writable}));
    ExecProcess exec(dir, spec, mode);
    REQUIRE(exec.wait_exit() == 0);
    const std::string log = exec.log();
    INFO(log);
    CHECK(log.find("Read-only file system") != std::string::npos);
    CHECK(log.find("usr=refused") != std::string::npos);
    CHECK(log.find("rw=written") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(guard.path()));
    CHECK(exec_test::read_file(writable + "/file") == "written\n");
}

TEST_CASE("protect: ProtectHome=yes hides /root, read-only keeps it readable") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    const HostFile marker("/root/.gitvisor-protect-test-" + std::to_string(::getpid()), "secret\n");
    const std::string probe = "stat -c mode=%a /root; ls -A /root | grep -c gitvisor-protect-test; cat " +
                              marker.path() + " || echo marker=hidden";
    SECTION("yes") {
        SpecBuilder spec;
        spec.set("type", "\"oneshot\"")
            .set("exec_start", list({shell(probe)}))
            .set("protect_home", "\"yes\"");
        ExecProcess exec(dir, spec, mode);
        REQUIRE(exec.wait_exit().has_value());
        const std::string log = exec.log();
        INFO(log);
        CHECK(log.find("mode=0\n") != std::string::npos);
        CHECK(log.find("marker=hidden") != std::string::npos);
        CHECK(log.find("secret") == std::string::npos);
    }
    SECTION("tmpfs") {
        SpecBuilder spec;
        spec.set("type", "\"oneshot\"")
            .set("exec_start", list({shell(probe + "; touch /root/x || echo write=refused")}))
            .set("protect_home", "\"tmpfs\"");
        ExecProcess exec(dir, spec, mode);
        REQUIRE(exec.wait_exit().has_value());
        const std::string log = exec.log();
        INFO(log);
        CHECK(log.find("mode=755\n") != std::string::npos);
        CHECK(log.find("marker=hidden") != std::string::npos);
        CHECK(log.find("write=refused") != std::string::npos);
    }
    SECTION("read-only") {
        SpecBuilder spec;
        spec.set("type", "\"oneshot\"")
            .set("exec_start",
                 list({shell(probe + "; echo x >> " + marker.path() + " || echo write=refused")}))
            .set("protect_home", "\"read-only\"");
        ExecProcess exec(dir, spec, mode);
        REQUIRE(exec.wait_exit().has_value());
        const std::string log = exec.log();
        INFO(log);
        CHECK(log.find("secret") != std::string::npos);
        CHECK(log.find("write=refused") != std::string::npos);
        CHECK(exec_test::read_file(marker.path()) == "secret\n");
    }
}

TEST_CASE("protect: strict leaves the unit's directories and '+' commands writable") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    const std::string state = dir.file("lib");
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("exec_start_pre", list({shell("echo plus > " + dir.file("plus"), "\"full_privileges\":true")}))
        .set("exec_start", list({shell("echo no > " + dir.file("main") +
                                       " || echo main=refused; "
                                       "echo kept > $$STATE_DIRECTORY/file && echo state=written; "
                                       "touch /etc/.gitvisor-x || echo etc=refused")}))
        .set("protect_system", "\"strict\"")
        .set("state_directory", quoted_list({"app"}))
        .set("state_directory_base", gitvisor::json_quote(state));
    ExecProcess exec(dir, spec, mode);
    REQUIRE(exec.wait_exit() == 0);
    const std::string log = exec.log();
    INFO(log);
    // gitvisor-exec's own log still takes lines: it is written through the original mounts.
    CHECK(log.find("main=refused") != std::string::npos);
    CHECK(log.find("state=written") != std::string::npos);
    CHECK(log.find("etc=refused") != std::string::npos);
    CHECK(log.find("Read-only file system") != std::string::npos);
    CHECK(exec_test::read_file(dir.file("plus")) == "plus\n");
    CHECK_FALSE(std::filesystem::exists(dir.file("main")));
    CHECK(exec_test::read_file(state + "/app/file") == "kept\n");
    CHECK(exec.state() == "inactive/dead");
}

TEST_CASE("protect: PrivateTmp= stays writable under strict") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("exec_start",
             list({shell("echo t > /tmp/t && echo tmp=written; echo v > /var/tmp/v && echo vartmp=written")}))
        .set("protect_system", "\"strict\"")
        .set("private_tmp", "true");
    ExecProcess exec(dir, spec, Mode::Namespace);
    REQUIRE(exec.wait_exit() == 0);
    const std::string log = exec.log();
    INFO(log);
    CHECK(log.find("tmp=written") != std::string::npos);
    CHECK(log.find("vartmp=written") != std::string::npos);
}

TEST_CASE("protect: InaccessiblePaths= empties a file, ReadOnlyPaths= refuses writes") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    TempDir dir;
    exec_test::write_file(dir.file("secret"), "secret\n");
    ::mkdir(dir.file("ro").c_str(), 0755);
    ::mkdir(dir.file("gone").c_str(), 0755);
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("exec_start", list({shell("stat -c secret=%a " + dir.file("secret") + "; cat " +
                                       dir.file("secret") + "; stat -c gone=%a " + dir.file("gone") +
                                       "; echo x > " + dir.file("ro/x") + " || echo ro=refused")}))
        .set("inaccessible_paths", quoted_list({dir.file("secret"), dir.file("gone"), "-/no/such/path"}))
        .set("read_only_paths", quoted_list({dir.file("ro")}));
    ExecProcess exec(dir, spec, Mode::Namespace);
    REQUIRE(exec.wait_exit().has_value());
    const std::string log = exec.log();
    INFO(log);
    CHECK(log.find("secret=0\n") != std::string::npos);
    CHECK(log.find("stdout 0123456789abcdef0123456789abcdef secret\n") == std::string::npos);
    CHECK(log.find("gone=0\n") != std::string::npos);
    CHECK(log.find("ro=refused") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.file("ro/x")));
}

TEST_CASE("protect: a missing ReadOnlyPaths= path fails the unit at step NAMESPACE") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"})).set("read_only_paths", quoted_list({dir.file("missing")}));
    ExecProcess exec(dir, spec, Mode::Namespace);
    CHECK(exec.wait_exit() == 1);
    CHECK(exec.state() == "failed/failed");
    CHECK(exec.field("failed_step") == "NAMESPACE");
    CHECK(exec.field("error") == "No such file or directory");
}

TEST_CASE("protect: sd_notify reaches gitvisor-exec from a strict unit") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    TempDir dir;
    SpecBuilder spec;
    // The notify socket lies in the run directory that the set-up covers for a moment.
    spec.set("type", "\"notify\"")
        .set("notify_socket", gitvisor::json_quote(dir.file("run/notify")))
        .set("protect_system", "\"strict\"")
        .start(command({"/usr/bin/python3", "-c",
                        "import os, socket, time\n"
                        "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                        "s.sendto(b'READY=1', os.environ['NOTIFY_SOCKET'])\n"
                        "time.sleep(60)\n"}));
    ExecProcess exec(dir, spec, Mode::Namespace);
    CHECK(exec.wait_state("active/running"));
    CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
}

TEST_CASE("protect: PrivateTmp= keeps a notify socket that lies under /tmp reachable") {
    EXEC_TEST_SKIP_UNLESS_ROOT("mounts");
    TempDir dir;  // under /tmp: the private /tmp would hide the socket
    SpecBuilder spec;
    spec.set("type", "\"notify\"")
        .set("notify_socket", gitvisor::json_quote(dir.file("run/notify")))
        .set("private_tmp", "true")
        .start(command({"/usr/bin/python3", "-c",
                        "import os, socket, time\n"
                        "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                        "s.sendto(b'READY=1', os.environ['NOTIFY_SOCKET'])\n"
                        "time.sleep(60)\n"}));
    ExecProcess exec(dir, spec, Mode::Namespace);
    CHECK(exec.wait_state("active/running"));
    CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
}
