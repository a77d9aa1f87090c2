// RuntimeDirectory=, StateDirectory=, CacheDirectory=, LogsDirectory=, ConfigurationDirectory=: made
// before the start under bases the spec moves into the test's directory, owned by User=, named in
// $RUNTIME_DIRECTORY...; the runtime ones removed at the end unless RuntimeDirectoryPreserve= says.

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "exec/exec_directories.h"
#include "exec/spec.h"
#include "exec_test_support.h"

using exec_test::command;
using exec_test::ExecProcess;
using exec_test::list;
using exec_test::Mode;
using exec_test::shell;
using exec_test::SpecBuilder;
using exec_test::TempDir;

namespace {

struct Owner {
    uid_t uid = 0;
    gid_t gid = 0;
    mode_t mode = 0;
};

std::optional<Owner> owner_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    return Owner{st.st_uid, st.st_gid, st.st_mode & 07777};
}

// Every directory type under <dir>/<type>/, named "app" (the runtime one "app/sub" as well).
SpecBuilder& with_directories(SpecBuilder& spec, const TempDir& dir) {
    for (const std::string type : {"runtime", "state", "cache", "logs", "configuration"})
        spec.set(type + "_directory_base", gitvisor::json_quote(dir.file(type)));
    return spec.set("runtime_directory", R"(["app","app/sub"])")
        .set("runtime_directory_mode", "488")  // 0750
        .set("state_directory", R"(["app"])")
        .set("cache_directory", R"(["app"])")
        .set("logs_directory", R"(["app"])")
        .set("configuration_directory", R"(["app"])")
        .set("configuration_directory_mode", "448");  // 0700
}

}  // namespace

TEST_CASE("directories: the variables list each directory in full") {
    auto spec = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("runtime_directory":["a","b/c"],"state_directory":["s"],"state_directory_base":"/srv/lib/"})");
    REQUIRE(spec);
    CHECK(
        gitvisor::exec::directory_environment(*spec) ==
        gitvisor::exec::EnvList{{"RUNTIME_DIRECTORY", "/run/a:/run/b/c"}, {"STATE_DIRECTORY", "/srv/lib/s"}});
    CHECK(gitvisor::exec::writable_directories(*spec) ==
          std::vector<std::string>{"/run/a", "/run/b/c", "/srv/lib/s"});
    auto bad = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("cache_directory":["../x"]})");
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == "field 'cache_directory': '../x' must be a relative path without '..'");
}

TEST_CASE("directories: made before the start, owned by User=, removed at the stop when runtime") {
    EXEC_TEST_SKIP_UNLESS_ROOT("User= and chown");
    const Mode mode = GENERATE(Mode::Plain, Mode::Namespace);
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    ::chmod(dir.path().c_str(), 0755);  // nobody goes through it
    SpecBuilder spec;
    with_directories(spec, dir)
        .start(shell("echo runtime=$$RUNTIME_DIRECTORY state=$$STATE_DIRECTORY cache=$$CACHE_DIRECTORY "
                     "logs=$$LOGS_DIRECTORY configuration=$$CONFIGURATION_DIRECTORY; id -u; "
                     "echo data > $$STATE_DIRECTORY/data && echo state=written; exec sleep 60"))
        .set("user", "\"nobody\"");
    ExecProcess exec(dir, spec, mode);
    REQUIRE(exec.wait_state("active/running"));
    REQUIRE(exec.wait_log("state=written"));
    const std::string log = exec.log();
    INFO(log);
    CHECK(log.find("runtime=" + dir.file("runtime/app") + ":" + dir.file("runtime/app/sub") +
                   " state=" + dir.file("state/app") + " cache=" + dir.file("cache/app") +
                   " logs=" + dir.file("logs/app") + " configuration=" + dir.file("configuration/app") +
                   "\n") != std::string::npos);
    CHECK(log.find(" 65534\n") != std::string::npos);
    for (const std::string path : {"runtime/app", "runtime/app/sub", "state/app", "cache/app", "logs/app"}) {
        INFO(path);
        const auto owner = owner_of(dir.file(path));
        REQUIRE(owner);
        CHECK(owner->uid == 65534);
        CHECK(owner->gid == 65534);
        CHECK(owner->mode == (path.starts_with("runtime") ? 0750U : 0755U));
    }
    // The configuration directory stays root's.
    const auto configuration = owner_of(dir.file("configuration/app"));
    REQUIRE(configuration);
    CHECK(configuration->uid == 0);
    CHECK(configuration->mode == 0700U);

    CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
    CHECK(exec.wait_exit().has_value());
    CHECK_FALSE(std::filesystem::exists(dir.file("runtime/app/sub")));
    CHECK_FALSE(std::filesystem::exists(dir.file("runtime/app")));
    CHECK(std::filesystem::exists(dir.file("runtime")));
    CHECK(exec_test::read_file(dir.file("state/app/data")) == "data\n");
}

TEST_CASE("directories: a tree of another owner is handed over whole") {
    EXEC_TEST_SKIP_UNLESS_ROOT("chown");
    TempDir dir;
    std::filesystem::create_directories(dir.file("state/app/deep"));
    exec_test::write_file(dir.file("state/app/deep/file"), "x");
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("exec_start", list({command({"true"})}))
        .set("state_directory", R"(["app"])")
        .set("state_directory_base", gitvisor::json_quote(dir.file("state")))
        .set("user", "\"nobody\"");
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_exit() == 0);
    for (const std::string path : {"state/app", "state/app/deep", "state/app/deep/file"}) {
        INFO(path);
        struct stat st {};
        REQUIRE(::stat(dir.file(path).c_str(), &st) == 0);
        CHECK(st.st_uid == 65534);
    }
    struct stat base {};
    REQUIRE(::stat(dir.file("state").c_str(), &base) == 0);
    CHECK(base.st_uid == 0);
}

TEST_CASE("directories: RuntimeDirectoryPreserve= decides what outlives a run") {
    TempDir dir;
    // Each run leaves a file and says whether the previous run's is still there; the third run stays.
    const std::string script = "ls $$RUNTIME_DIRECTORY; n=$$(cat " + dir.file("runs") +
                               " 2>/dev/null || echo 0); n=$$((n+1)); "
                               "echo $$n > " +
                               dir.file("runs") +
                               "; touch $$RUNTIME_DIRECTORY/run$$n; [ $$n -ge 3 ] && exec sleep 60; exit 1";
    SpecBuilder spec;
    spec.start(shell(script))
        .set("restart", "\"on-failure\"")
        .set("restart_usec", "0")
        .set("runtime_directory", R"(["app"])")
        .set("runtime_directory_base", gitvisor::json_quote(dir.file("run-base")));
    SECTION("no: a fresh directory for every run, removed at the end") {
        ExecProcess exec(dir, spec);
        REQUIRE(exec_test::eventually(
            [&] { return exec.field("restarts") == "2" && exec.state() == "active/running"; }));
        REQUIRE(
            exec_test::eventually([&] { return std::filesystem::exists(dir.file("run-base/app/run3")); }));
        CHECK_FALSE(std::filesystem::exists(dir.file("run-base/app/run2")));
        CHECK(exec.log().find("run1") == std::string::npos);  // ls never saw an earlier run's file
        CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
        CHECK(exec.wait_exit().has_value());
        CHECK_FALSE(std::filesystem::exists(dir.file("run-base/app")));
    }
    SECTION("restart: kept across restarts, removed at the end") {
        spec.set("runtime_directory_preserve", "\"restart\"");
        ExecProcess exec(dir, spec);
        REQUIRE(exec_test::eventually(
            [&] { return exec.field("restarts") == "2" && exec.state() == "active/running"; }));
        REQUIRE(
            exec_test::eventually([&] { return std::filesystem::exists(dir.file("run-base/app/run3")); }));
        CHECK(std::filesystem::exists(dir.file("run-base/app/run1")));
        CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
        CHECK(exec.wait_exit().has_value());
        CHECK_FALSE(std::filesystem::exists(dir.file("run-base/app")));
    }
    SECTION("restart: kept when gitvisord's stop is the first half of a restart") {
        spec.set("runtime_directory_preserve", "\"restart\"");
        ExecProcess exec(dir, spec);
        REQUIRE(exec_test::eventually([&] { return std::filesystem::exists(dir.file("run-base/app/run3")); }));
        CHECK(exec.request(R"({"op":"stop","restart":true})") == R"({"ok":true})");
        CHECK(exec.wait_exit().has_value());
        CHECK(std::filesystem::exists(dir.file("run-base/app/run3")));
        std::filesystem::remove_all(dir.file("run-base"));
    }
    SECTION("no: removed even when the stop is for a restart") {
        ExecProcess exec(dir, spec);
        REQUIRE(exec_test::eventually([&] { return std::filesystem::exists(dir.file("run-base/app/run3")); }));
        CHECK(exec.request(R"({"op":"stop","restart":true})") == R"({"ok":true})");
        CHECK(exec.wait_exit().has_value());
        CHECK_FALSE(std::filesystem::exists(dir.file("run-base/app")));
    }
    SECTION("yes: kept after the end") {
        spec.set("runtime_directory_preserve", "\"yes\"");
        ExecProcess exec(dir, spec);
        REQUIRE(exec_test::eventually(
            [&] { return exec.field("restarts") == "2" && exec.state() == "active/running"; }));
        REQUIRE(
            exec_test::eventually([&] { return std::filesystem::exists(dir.file("run-base/app/run3")); }));
        CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
        CHECK(exec.wait_exit().has_value());
        CHECK(std::filesystem::exists(dir.file("run-base/app/run1")));
        CHECK(std::filesystem::exists(dir.file("run-base/app/run3")));
    }
}
