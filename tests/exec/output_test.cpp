// StandardOutput= and StandardError=: the unit's log (journal, the default), /dev/null, or a file opened
// for writing (file:), appending (append:) or after truncation (truncate:).

#include <catch2/catch.hpp>
#include <string>

#include "exec/spec.h"
#include "exec_test_support.h"

using exec_test::ExecProcess;
using exec_test::list;
using exec_test::shell;
using exec_test::SpecBuilder;
using exec_test::TempDir;
using gitvisor::json_quote;

namespace {

// Runs a oneshot that writes "out" to stdout and "err" to stderr with these settings; the log after it.
std::string run_with(const TempDir& dir, const std::string& standard_output,
                     const std::string& standard_error) {
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"").set("exec_start", list({shell("echo out; echo err >&2")}));
    if (!standard_output.empty()) spec.set("standard_output", json_quote(standard_output));
    if (!standard_error.empty()) spec.set("standard_error", json_quote(standard_error));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_exit() == 0);
    return exec.log();
}

}  // namespace

TEST_CASE("output: the spec reads the targets") {
    using gitvisor::exec::OutputTarget;
    using Kind = OutputTarget::Kind;
    CHECK(gitvisor::exec::output_target_from_string("append:/var/log/x") ==
          OutputTarget{Kind::Append, "/var/log/x"});
    CHECK(gitvisor::exec::output_target_from_string("null") == OutputTarget{Kind::Null, ""});
    CHECK_FALSE(gitvisor::exec::output_target_from_string("file:relative"));
    CHECK_FALSE(gitvisor::exec::output_target_from_string("tty"));
    auto bad = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("standard_output":"inherit"})");
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == "field 'standard_output': unknown value 'inherit'");
}

TEST_CASE("output: by default both streams go to the log") {
    TempDir dir;
    const std::string log = run_with(dir, "", "");
    CHECK(log.find(" stdout 0123456789abcdef0123456789abcdef out\n") != std::string::npos);
    CHECK(log.find(" stderr 0123456789abcdef0123456789abcdef err\n") != std::string::npos);
}

TEST_CASE("output: null drops a stream, the other still goes to the log") {
    TempDir dir;
    const std::string log = run_with(dir, "null", "journal");
    CHECK(log.find(" out\n") == std::string::npos);
    CHECK(log.find(" stderr 0123456789abcdef0123456789abcdef err\n") != std::string::npos);
    TempDir second;
    const std::string both = run_with(second, "null", "");
    CHECK(both.find(" out\n") == std::string::npos);
    CHECK(both.find(" err\n") == std::string::npos);
}

TEST_CASE("output: file: writes from the start, append: at the end, truncate: empties first") {
    TempDir dir;
    const std::string path = dir.file("out.txt");
    SECTION("file:") {
        exec_test::write_file(path, "0123456789\n");
        const std::string log = run_with(dir, "file:" + path, "");
        // StandardError=inherit: the same open file, after standard output.
        CHECK(exec_test::read_file(path) == "out\nerr\n89\n");
        CHECK(log.find(" out\n") == std::string::npos);
        CHECK(log.find(" err\n") == std::string::npos);
    }
    SECTION("append:") {
        exec_test::write_file(path, "before\n");
        run_with(dir, "append:" + path, "append:" + path);
        CHECK(exec_test::read_file(path) == "before\nout\nerr\n");
    }
    SECTION("truncate:") {
        exec_test::write_file(path, "a long line from before\n");
        const std::string log = run_with(dir, "truncate:" + path, "journal");
        CHECK(exec_test::read_file(path) == "out\n");
        CHECK(log.find(" stderr 0123456789abcdef0123456789abcdef err\n") != std::string::npos);
    }
    SECTION("standard error alone, in a file of its own") {
        const std::string log = run_with(dir, "", "file:" + dir.file("err.txt"));
        CHECK(exec_test::read_file(dir.file("err.txt")) == "err\n");
        CHECK(log.find(" stdout 0123456789abcdef0123456789abcdef out\n") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(path));
    }
}

TEST_CASE("output: a file that cannot be opened fails at step STDOUT") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("exec_start", list({shell("echo out")}))
        .set("standard_output", json_quote("file:" + dir.file("no/such/dir/out")));
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 209);
    CHECK(exec.field("failed_step") == "STDOUT");
    CHECK(exec.field("error") == "No such file or directory");
}
