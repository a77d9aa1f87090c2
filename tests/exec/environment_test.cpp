#include "exec/environment.h"

#include <catch2/catch.hpp>
#include <cerrno>

#include "exec_test_support.h"

using gitvisor::exec::EnvList;
using gitvisor::exec::EnvMap;
using gitvisor::exec::load_environment_files;
using gitvisor::exec::merge_environment;

TEST_CASE("environment: later layers win and UnsetEnvironment= applies last") {
    const EnvList base = {{"PATH", "/bin"}, {"INVOCATION_ID", "abc"}, {"HOME", "/root"}};
    const EnvList environment = {{"A", "1"}, {"B", "2"}, {"A", "3"}, {"HOME", "/home/x"}};
    const EnvList files = {{"B", "file"}, {"C", "4"}, {"D", "5"}};
    const EnvMap env = merge_environment(base, environment, files, {"C", "D=wrong", "INVOCATION_ID"});
    CHECK(env == EnvMap{{"A", "3"}, {"B", "file"}, {"D", "5"}, {"HOME", "/home/x"}, {"PATH", "/bin"}});
    CHECK(gitvisor::exec::environment_strings(EnvMap{{"A", "1"}, {"B", ""}}) ==
          std::vector<std::string>{"A=1", "B="});
    CHECK(merge_environment({}, {{"D", "5"}}, {}, {"D=5"}).empty());
}

TEST_CASE("environment: files are read in order, optional ones may be missing") {
    exec_test::TempDir dir;
    exec_test::write_file(dir.file("a.env"), "# comment\nA=1\nexport B=\"two words\"\n");
    exec_test::write_file(dir.file("b.env"), "A=overridden\n");
    int error = 0;
    auto loaded =
        load_environment_files({dir.file("a.env"), "-" + dir.file("missing.env"), dir.file("b.env")}, &error);
    INFO(loaded.error());
    REQUIRE(loaded);
    CHECK(*loaded == EnvList{{"A", "1"}, {"B", "two words"}, {"A", "overridden"}});
}

TEST_CASE("environment: glob patterns read every match in order") {
    exec_test::TempDir dir;
    exec_test::write_file(dir.file("20.env"), "X=20\n");
    exec_test::write_file(dir.file("10.env"), "X=10\nY=10\n");
    int error = 0;
    auto loaded = load_environment_files({dir.file("*.env")}, &error);
    REQUIRE(loaded);
    CHECK(*loaded == EnvList{{"X", "10"}, {"Y", "10"}, {"X", "20"}});
    auto none = load_environment_files({"-" + dir.file("*.conf")}, &error);
    CHECK(none);
    auto required = load_environment_files({dir.file("*.conf")}, &error);
    CHECK_FALSE(required);
    CHECK(error == ENOENT);
}

TEST_CASE("environment: a missing required file is an error with its errno") {
    exec_test::TempDir dir;
    int error = 0;
    auto loaded = load_environment_files({dir.file("missing.env")}, &error);
    REQUIRE_FALSE(loaded);
    CHECK(error == ENOENT);
    CHECK(loaded.error() == dir.file("missing.env") + ": No such file or directory");
    // A directory cannot be read as a file.
    auto directory = load_environment_files({"-" + dir.path()}, &error);
    REQUIRE_FALSE(directory);
    CHECK(error == EISDIR);
}
