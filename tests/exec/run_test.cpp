// gitvisor-exec as a whole: the real binary, a spec in a temporary directory, as a plain child and (as
// root) as PID 1 of a new PID and mount namespace.

#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <string>

#include "exec_test_support.h"

using exec_test::command;
using exec_test::ExecProcess;
using exec_test::list;
using exec_test::Mode;
using exec_test::shell;
using exec_test::SpecBuilder;
using exec_test::TempDir;

namespace {

// Both modes when root; the plain one otherwise (the namespace one is skipped with a printed reason).
Mode generate_mode() {
    const Mode mode = GENERATE(Mode::Plain, Mode::Namespace);
    return mode;
}

#define SKIP_NAMESPACE_UNLESS_ROOT(mode)                                                       \
    if ((mode) == Mode::Namespace && !exec_test::is_root()) {                                  \
        WARN("skipped in a PID namespace: needs root (running as uid " << ::geteuid() << ")"); \
        return;                                                                                \
    }

}  // namespace

TEST_CASE("run: a simple service runs and its output is logged line by line") {
    const Mode mode = generate_mode();
    SKIP_NAMESPACE_UNLESS_ROOT(mode);
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    SpecBuilder spec;
    spec.start(shell("echo hello; echo oops >&2; printf partial; exec sleep 60"));
    ExecProcess exec(dir, spec, mode);

    REQUIRE(exec.wait_state("active/running"));
    // stdout and stderr are two pipes: their lines may come in either order.
    REQUIRE(exec.wait_log("hello"));
    REQUIRE(exec.wait_log("oops"));
    const std::regex line_format(
        R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (stdout|stderr) 0123456789abcdef0123456789abcdef (.*))");
    const auto lines = exec_test::lines_of(exec.log());
    REQUIRE(lines.size() == 2);
    std::set<std::string> seen;
    for (const std::string& line : lines) {
        std::smatch match;
        INFO(line);
        REQUIRE(std::regex_match(line, match, line_format));
        seen.insert(match[1].str() + " " + match[2].str());
    }
    CHECK(seen == std::set<std::string>{"stdout hello", "stderr oops"});

    // Stop: the reply comes once everything is down; the partial line is written when its pipe closes.
    CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
    CHECK(exec.wait_exit() == 128 + SIGTERM);
    CHECK(exec.state() == "inactive/dead");
    CHECK(exec.field("result") == "success");
    CHECK(exec.field("main_pid") == "0");
    CHECK(exec.field("exit_signal") == std::to_string(SIGTERM));
    CHECK(
        exec_test::lines_of(exec.log()).back().ends_with(" stdout 0123456789abcdef0123456789abcdef partial"));
    // The control socket goes away with gitvisor-exec; the status file stays.
    CHECK_FALSE(std::filesystem::exists(exec.socket_path()));
}

TEST_CASE("run: the status file and the status request carry the protocol fields") {
    const Mode mode = generate_mode();
    SKIP_NAMESPACE_UNLESS_ROOT(mode);
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    SpecBuilder spec("web.service");
    spec.start(command({"sleep", "60"}));
    ExecProcess exec(dir, spec, mode);
    REQUIRE(exec.wait_state("active/running"));

    const gitvisor::JsonValue status = exec.status();
    for (const char* name :
         {"version", "unit", "invocation", "exec_pid", "main_pid", "state", "sub_state", "result",
          "since_usec", "restarts", "exit_code", "exit_signal", "failed_step", "error"}) {
        INFO(name);
        CHECK(status.find(name) != nullptr);
    }
    CHECK(status.find("version")->as_integer() == 1);
    CHECK(exec.field("unit") == "web.service");
    CHECK(exec.field("invocation") == "0123456789abcdef0123456789abcdef");
    CHECK(exec.field("exec_pid") == (mode == Mode::Plain ? std::to_string(exec.pid()) : "1"));
    CHECK(exec.field("restarts") == "0");
    CHECK(exec.field("result") == "success");
    const auto since = status.find("since_usec")->as_integer();
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    CHECK(since <= now);
    CHECK(since > now - 60'000'000);
    // The main process is the sleep, a child of gitvisor-exec (Type=simple is running from the fork on,
    // so the execve may still be on its way).
    const pid_t main = exec.main_host_pid();
    REQUIRE(main > 0);
    CHECK(exec_test::eventually(
        [&] { return exec_test::read_file("/proc/" + std::to_string(main) + "/comm") == "sleep\n"; }));

    // The status request answers the same object (events aside).
    const std::string reply = exec.request(R"({"op":"status"})");
    CHECK(reply == exec_test::read_file(exec.status_path()).substr(0, reply.size()));
    CHECK(exec.request(R"({"op":"frobnicate"})") == R"({"ok":false,"error":"unknown op 'frobnicate'"})");
    CHECK(
        exec.request("not json").starts_with(R"({"ok":false,"error":"invalid request: line 1, column 1: )"));
}

TEST_CASE("run: Restart=on-failure restarts a main process killed by SIGKILL") {
    const Mode mode = generate_mode();
    SKIP_NAMESPACE_UNLESS_ROOT(mode);
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"})).set("restart", "\"on-failure\"").set("restart_usec", "100000");
    ExecProcess exec(dir, spec, mode);
    REQUIRE(exec.wait_state("active/running"));
    const pid_t first = exec.main_host_pid();
    REQUIRE(first > 0);
    const std::string first_invocation = exec.field("invocation");

    REQUIRE(::kill(first, SIGKILL) == 0);
    REQUIRE(exec_test::eventually(
        [&] { return exec.field("restarts") == "1" && exec.state() == "active/running"; }));
    const pid_t second = exec.main_host_pid();
    CHECK(second > 0);
    CHECK(second != first);
    // A new invocation id for the automatic restart; the run's result starts clean again.
    CHECK(exec.field("invocation") != first_invocation);
    CHECK(exec.field("invocation").size() == 32);
    CHECK(exec.field("result") == "success");
    CHECK(exec_test::process_gone(first));
}

TEST_CASE("run: Restart=no leaves a killed service failed and gitvisor-exec exits") {
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"}));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_state("active/running"));
    const pid_t main = exec.main_host_pid();
    REQUIRE(::kill(main, SIGKILL) == 0);
    CHECK(exec.wait_exit() == 128 + SIGKILL);
    CHECK(exec.state() == "failed/failed");
    CHECK(exec.field("result") == "signal");
    CHECK(exec.field("exit_signal") == std::to_string(SIGKILL));
    CHECK(exec.field("restarts") == "0");
}

TEST_CASE("run: the start limit ends the restarts in failed with start-limit-hit") {
    TempDir dir;
    SpecBuilder spec;
    spec.start(shell("exit 3"))
        .set("restart", "\"always\"")
        .set("restart_usec", "10000")
        .set("start_limit_burst", "3")
        .set("start_limit_interval_usec", "60000000");
    ExecProcess exec(dir, spec);
    // Three starts are allowed (the first one counts); the fourth is refused.
    CHECK(exec.wait_exit() == 3);
    CHECK(exec.state() == "failed/failed");
    CHECK(exec.field("result") == "start-limit-hit");
    CHECK(exec.field("restarts") == "2");
    CHECK(exec.field("exit_code") == "3");
}

TEST_CASE("run: stop escalates to SIGKILL when the service ignores SIGTERM") {
    const Mode mode = generate_mode();
    SKIP_NAMESPACE_UNLESS_ROOT(mode);
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    SpecBuilder spec;
    // A main process and a child of it, both ignoring SIGTERM.
    spec.start(shell("trap '' TERM; sleep 1000 & echo started; while :; do sleep 0.05; done"))
        .set("timeout_stop_usec", "300000");
    ExecProcess exec(dir, spec, mode);
    REQUIRE(exec.wait_state("active/running"));
    REQUIRE(exec.wait_log("started"));
    std::vector<pid_t> service = gitvisor::exec::list_descendants(exec.pid());
    REQUIRE(service.size() >= 2);

    const auto before = std::chrono::steady_clock::now();
    CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
    const auto waited = std::chrono::steady_clock::now() - before;
    CHECK(waited >= std::chrono::milliseconds(300));
    CHECK(exec.wait_exit() == 128 + SIGKILL);
    // Like systemd: a stop that needed SIGKILL is a timeout, and the unit is failed.
    CHECK(exec.state() == "failed/failed");
    CHECK(exec.field("result") == "timeout");
    for (const pid_t pid : service) {
        INFO("pid " << pid);
        CHECK(exec_test::process_gone(pid));
    }
}

TEST_CASE("run: SIGTERM to gitvisor-exec stops the unit") {
    const Mode mode = generate_mode();
    SKIP_NAMESPACE_UNLESS_ROOT(mode);
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"}))
        .set("exec_stop_post", list({shell("echo stop-post $SERVICE_RESULT")}));
    ExecProcess exec(dir, spec, mode);
    REQUIRE(exec.wait_state("active/running"));
    const pid_t main = exec.main_host_pid();
    REQUIRE(::kill(exec.pid(), SIGTERM) == 0);
    CHECK(exec.wait_exit() == 128 + SIGTERM);
    CHECK(exec.state() == "inactive/dead");
    CHECK(exec_test::process_gone(main));
    CHECK(exec.log().find("stop-post success") != std::string::npos);
}

TEST_CASE("run: User= runs the commands as that user") {
    EXEC_TEST_SKIP_UNLESS_ROOT("User=");
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .start(shell("echo uid=$(id -u) gid=$(id -g) user=$USER home=$HOME"))
        .set("exec_start_post", list({shell("echo post uid=$(id -u)", "\"full_privileges\":true")}))
        .set("user", "\"nobody\"");
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 0);
    const std::string log = exec.log();
    INFO(log);
    CHECK(log.find("uid=65534 gid=65534 user=nobody home=/nonexistent") != std::string::npos);
    // The '+' prefix keeps full privileges.
    CHECK(log.find("post uid=0") != std::string::npos);
}

TEST_CASE("run: the '!' prefix skips only User=: the bounding set, NoNewPrivileges= and ProtectSystem= apply") {
    EXEC_TEST_SKIP_UNLESS_ROOT("User=");
    TempDir dir;
    SpecBuilder spec;
    const std::string probe = "echo $0 uid=$(id -u) user=$USER $(grep -E '^(CapBnd|NoNewPrivs)' /proc/self/status | "
                              "tr -s '\\t' ' ' | tr '\\n' ' '); touch /usr/.gitvisor-bang 2>/dev/null || echo $0 usr=refused";
    spec.set("type", "\"oneshot\"")
        .set("exec_start_pre", list({shell(probe, "\"no_setuid\":true")}))
        .start(shell(probe))
        .set("exec_start_post", list({shell(probe, "\"full_privileges\":true")}))
        .set("user", "\"nobody\"")
        .set("no_new_privileges", "true")
        .set("protect_system", "\"full\"")
        .set("capability_bounding_set", R"(["CAP_NET_BIND_SERVICE"])");
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 0);
    const std::string log = exec.log();
    INFO(log);
    std::filesystem::remove("/usr/.gitvisor-bang");
    std::string own_bounding_set;  // what '+' keeps: this process's, as gitvisor-exec inherited it
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("CapBnd:", 0) == 0) own_bounding_set = line.substr(line.find_first_not_of(" \t", 7));
    // '!': root, but within the bounding set (CAP_NET_BIND_SERVICE is bit 10: 0x400), no new privileges,
    // and /usr read-only.
    CHECK(log.find("uid=0 user=nobody CapBnd: 0000000000000400 NoNewPrivs: 1") != std::string::npos);
    // The main command: nobody.
    CHECK(log.find("uid=65534 user=nobody CapBnd: 0000000000000400 NoNewPrivs: 1") != std::string::npos);
    // '+': none of it.
    CHECK(log.find("uid=0 user=nobody CapBnd: " + own_bounding_set + " NoNewPrivs: 0") != std::string::npos);
    // Two refusals of /usr: '!' and the main command; '+' could write.
    size_t refusals = 0;
    for (size_t at = 0; (at = log.find("usr=refused", at)) != std::string::npos; ++at) ++refusals;
    CHECK(refusals == 2);
}

TEST_CASE("run: an unknown User= fails at step USER") {
    EXEC_TEST_SKIP_UNLESS_ROOT("User=");
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"})).set("user", "\"no-such-user-gitvisor\"");
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 217);
    CHECK(exec.state() == "failed/failed");
    CHECK(exec.field("failed_step") == "USER");
}

TEST_CASE("run: Environment=, EnvironmentFile= and WorkingDirectory= apply") {
    TempDir dir;
    std::filesystem::create_directory(dir.file("work"));
    exec_test::write_file(dir.file("env"), "B=from-file\nC=\"three words here\"\n");
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("exec_start", list({shell("echo A=$A B=$B C=$C; pwd; echo id=$INVOCATION_ID"),
                                 command({"/bin/echo", "x${A}y", "$C", "${NOPE}."}),
                                 command({"/bin/echo", "$A"}, "\"no_env_expand\":true")}))
        .set("environment", R"({"A":"1","B":"from-environment","D":"gone"})")
        .set("environment_files", list({gitvisor::json_quote(dir.file("env")), "\"-/nonexistent/env\""}))
        .set("unset_environment", R"(["D"])")
        .set("working_directory", gitvisor::json_quote(dir.file("work")));
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 0);
    const std::string log = exec.log();
    INFO(log);
    CHECK(log.find(" A=1 B=from-file C=three words here\n") != std::string::npos);
    CHECK(log.find(" " + dir.file("work") + "\n") != std::string::npos);
    CHECK(log.find(" id=0123456789abcdef0123456789abcdef\n") != std::string::npos);
    // $C alone splits into words; ${NOPE} is empty; ':' keeps the text as written.
    CHECK(log.find(" x1y three words here .\n") != std::string::npos);
    CHECK(log.find(" $A\n") != std::string::npos);
    CHECK(exec.state() == "inactive/dead");
}

TEST_CASE("run: set-up failures name their step and errno") {
    TempDir dir;
    SECTION("a missing EnvironmentFile=") {
        SpecBuilder spec;
        spec.start(command({"sleep", "60"}))
            .set("environment_files", list({gitvisor::json_quote(dir.file("nope"))}));
        ExecProcess exec(dir, spec);
        CHECK(exec.wait_exit() == 204);
        CHECK(exec.field("failed_step") == "ENVIRONMENT-FILE");
        CHECK(exec.field("error") == "No such file or directory");
    }
    SECTION("a missing WorkingDirectory=") {
        SpecBuilder spec;
        spec.start(command({"sleep", "60"})).set("working_directory", gitvisor::json_quote(dir.file("nope")));
        ExecProcess exec(dir, spec);
        CHECK(exec.wait_exit() == 200);
        CHECK(exec.field("failed_step") == "CHDIR");
        CHECK(exec.field("error") == "No such file or directory");
    }
    SECTION("a missing WorkingDirectory= with '-' is ignored") {
        SpecBuilder spec;
        spec.set("type", "\"oneshot\"").start(command({"true"}));
        spec.set("working_directory", gitvisor::json_quote("-" + dir.file("nope")));
        ExecProcess exec(dir, spec);
        CHECK(exec.wait_exit() == 0);
        CHECK(exec.state() == "inactive/dead");
    }
}

TEST_CASE("run: a missing binary fails at step EXEC with the errno text") {
    const std::string type = GENERATE(std::string("simple"), std::string("exec"));
    const std::string path =
        GENERATE(std::string("/nonexistent/gitvisor-program"), std::string("gitvisor-no-such-program"));
    INFO("Type=" << type << " path " << path);
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({path})).set("type", gitvisor::json_quote(type));
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 203);
    CHECK(exec.state() == "failed/failed");
    CHECK(exec.field("result") == "exit-code");
    CHECK(exec.field("failed_step") == "EXEC");
    CHECK(exec.field("error") == "No such file or directory");
    CHECK(exec.field("exit_code") == "203");
}

TEST_CASE("run: bare program names are found in the fixed search path") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"").start(command({"echo", "found"}));
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 0);
    CHECK(exec.log().find(" found\n") != std::string::npos);
}

TEST_CASE("run: oneshot runs its commands in order and RemainAfterExit= keeps it active") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("remain_after_exit", "true")
        .set("exec_start_pre", list({shell("echo pre")}))
        .set("exec_start", list({shell("echo one"), shell("echo two")}))
        .set("exec_start_post", list({shell("echo post")}))
        .set("exec_stop", list({shell("echo stop MAINPID=$MAINPID result=$SERVICE_RESULT")}));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_state("active/exited"));
    CHECK(exec.field("main_pid") == "0");
    REQUIRE(exec.wait_log("post"));
    CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
    CHECK(exec.wait_exit() == 0);
    CHECK(exec.state() == "inactive/dead");
    std::string order;
    for (const std::string& line : exec_test::lines_of(exec.log()))
        order += line.substr(line.rfind(' ') + 1) + ",";
    CHECK(order == "pre,one,two,post,result=success,");
    CHECK(exec.log().find("stop MAINPID= result=success") != std::string::npos);
}

TEST_CASE("run: oneshot without RemainAfterExit= ends by itself, a failing one fails") {
    TempDir dir;
    SECTION("success") {
        SpecBuilder spec;
        spec.set("type", "\"oneshot\"").start(shell("exit 0"));
        ExecProcess exec(dir, spec);
        CHECK(exec.wait_exit() == 0);
        CHECK(exec.state() == "inactive/dead");
        CHECK(exec.field("result") == "success");
    }
    SECTION("failure stops the sequence") {
        SpecBuilder spec;
        spec.set("type", "\"oneshot\"")
            .set("exec_start", list({shell("exit 4"), shell("echo never")}))
            .set("exec_stop_post", list({shell("echo stop-post $SERVICE_RESULT $EXIT_CODE $EXIT_STATUS")}));
        ExecProcess exec(dir, spec);
        CHECK(exec.wait_exit() == 4);
        CHECK(exec.state() == "failed/failed");
        CHECK(exec.field("result") == "exit-code");
        CHECK(exec.log().find("never") == std::string::npos);
        CHECK(exec.log().find("stop-post exit-code exited 4") != std::string::npos);
    }
    SECTION("'-' ignores a failure") {
        SpecBuilder spec;
        spec.set("type", "\"oneshot\"")
            .set("exec_start", list({shell("exit 4", "\"ignore_failure\":true"), shell("echo after")}));
        ExecProcess exec(dir, spec);
        CHECK(exec.wait_exit() == 0);
        CHECK(exec.state() == "inactive/dead");
        CHECK(exec.log().find("after") != std::string::npos);
    }
}

TEST_CASE("run: ExecCondition= 1-254 skips the unit without failing it") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("exec_condition", list({shell("exit 1")})).start(shell("echo should-not-run"));
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 0);
    CHECK(exec.state() == "inactive/dead");
    CHECK(exec.field("result") == "success");
    CHECK(exec.log().find("should-not-run") == std::string::npos);
}

TEST_CASE("run: a failing ExecStartPre= fails the start, ExecStopPost= still runs") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("exec_start_pre", list({shell("exit 0", "\"ignore_failure\":true"), shell("exit 2")}))
        .start(shell("echo should-not-run"))
        .set("exec_stop_post", list({shell("echo cleanup")}));
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 1);
    CHECK(exec.state() == "failed/failed");
    CHECK(exec.field("result") == "exit-code");
    CHECK(exec.field("exit_code") == "2");
    CHECK(exec.log().find("should-not-run") == std::string::npos);
    CHECK(exec.log().find("cleanup") != std::string::npos);
}

TEST_CASE("run: the kill request signals the main process or every process") {
    const Mode mode = generate_mode();
    SKIP_NAMESPACE_UNLESS_ROOT(mode);
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    SpecBuilder spec;
    spec.start(shell("trap 'echo got USR1' USR1; echo ready; while :; do sleep 0.05; done"));
    ExecProcess exec(dir, spec, mode);
    REQUIRE(exec.wait_state("active/running"));
    REQUIRE(exec.wait_log("ready"));
    CHECK(exec.request(R"({"op":"kill","signal":10,"whom":"main"})") == R"({"ok":true})");
    CHECK(exec.wait_log("got USR1"));
    // A user signal sent to gitvisor-exec itself is passed on to the main process, as tini does.
    REQUIRE(::kill(exec.pid(), SIGUSR1) == 0);
    CHECK(exec_test::eventually([&] { return exec_test::lines_of(exec.log()).size() == 3; }));
    CHECK(exec.request(R"({"op":"kill","signal":10,"whom":"nobody"})") ==
          R"({"ok":false,"error":"\"whom\" must be \"main\" or \"all\""})");
    CHECK(exec.request(R"({"op":"kill","whom":"main"})") ==
          R"({"ok":false,"error":"\"signal\" must be a signal number"})");
    // SIGKILL to all: the service dies, Restart=no, gitvisor-exec ends.
    CHECK(exec.request(R"({"op":"kill","signal":9,"whom":"all"})") == R"({"ok":true})");
    CHECK(exec.wait_exit() == 128 + SIGKILL);
    CHECK(exec.field("result") == "signal");
}

TEST_CASE("run: long lines are split and a last line without newline is kept") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"").start(shell("head -c 70000 /dev/zero | tr '\\0' x; echo; printf tail"));
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 0);
    const auto lines = exec_test::lines_of(exec.log());
    REQUIRE(lines.size() == 3);
    const size_t header =
        std::string("2026-11-25T13:20:01.123456Z stdout 0123456789abcdef0123456789abcdef ").size();
    CHECK(lines[0].size() == header + 65536);
    CHECK(lines[1].size() == header + 70000 - 65536);
    CHECK(lines[2].substr(header) == "tail");
}

TEST_CASE("run: the reload request runs ExecReload= with MAINPID") {
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"})).set("exec_reload", list({shell("echo reload main=$MAINPID")}));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_state("active/running"));
    CHECK(exec.request(R"({"op":"reload"})") == R"({"ok":true})");
    CHECK(exec.wait_log("reload main=" + exec.field("main_pid")));
    CHECK(exec.state() == "active/running");
}

TEST_CASE("run: PrivateTmp= gives the service a /tmp of its own") {
    EXEC_TEST_SKIP_UNLESS_ROOT("PrivateTmp=");
    const Mode mode = generate_mode();
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    const std::string marker = "gitvisor-private-tmp-" + std::to_string(::getpid());
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("private_tmp", "true")
        .start(shell("touch /tmp/" + marker + " && stat -f -c %T /tmp && ls /tmp | wc -l"));
    ExecProcess exec(dir, spec, mode);
    CHECK(exec.wait_exit() == 0);
    const auto lines = exec_test::lines_of(exec.log());
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].ends_with(" tmpfs"));
    CHECK(lines[1].ends_with(" 1"));
    CHECK_FALSE(std::filesystem::exists("/tmp/" + marker));
    CHECK(exec.state() == "inactive/dead");
}

TEST_CASE("run: a bad spec or bad arguments end gitvisor-exec at once") {
    TempDir dir;
    exec_test::write_file(dir.file("spec.json"), R"({"version":1,"unit":"x","restart":"sometimes"})");
    const std::string command_line =
        exec_test::kExecBinary + " --spec " + dir.file("spec.json") + " 2>" + dir.file("err");
    CHECK(WEXITSTATUS(std::system(command_line.c_str())) == 1);
    CHECK(exec_test::read_file(dir.file("err")) == "gitvisor-exec: error: cannot read spec '" +
                                                       dir.file("spec.json") +
                                                       "': field 'restart': unknown value 'sometimes'\n");
    const std::string usage = exec_test::kExecBinary + " --bogus 2>" + dir.file("err");
    CHECK(WEXITSTATUS(std::system(usage.c_str())) == 2);
    CHECK(exec_test::read_file(dir.file("err")) == "usage: gitvisor-exec --spec PATH [--control-fd N]\n");
    for (const char* bad : {"--control-fd 2", "--control-fd x", "--control-fd"}) {
        const std::string line = exec_test::kExecBinary + " --spec " + dir.file("spec.json") + " " + bad + " 2>/dev/null";
        CHECK(WEXITSTATUS(std::system(line.c_str())) == 2);
    }
}

TEST_CASE("run: the --control-fd socket is a control connection from the first moment") {
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"}));
    exec_test::write_file(dir.file("spec.json"), spec.json(dir.path()));
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    // The request is written before gitvisor-exec runs at all: it is read once the loop starts.
    const std::string requests = "{\"op\":\"status\"}\n";
    REQUIRE(::write(pair[0], requests.data(), requests.size()) == static_cast<ssize_t>(requests.size()));
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(pair[1], 7);
        ::execl(exec_test::kExecBinary.c_str(), "gitvisor-exec", "--spec", dir.file("spec.json").c_str(),
                "--control-fd", "7", nullptr);
        ::_exit(127);
    }
    ::close(pair[1]);
    struct Reaper {
        pid_t pid;
        int fd;
        ~Reaper() {
            ::close(fd);
            if (pid <= 0) return;  // exited and reaped
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    } reaper{pid, pair[0]};
    std::string received;
    const auto read_until = [&](const std::string& text) {
        return exec_test::eventually([&] {
            pollfd waiting{pair[0], POLLIN, 0};
            if (::poll(&waiting, 1, 50) > 0) {
                char chunk[4096];
                const ssize_t n = ::read(pair[0], chunk, sizeof chunk);
                if (n > 0) received.append(chunk, static_cast<size_t>(n));
            }
            return received.find(text) != std::string::npos;
        });
    };
    CHECK(read_until("\"state\":\"active\""));
    const std::string stop = "{\"op\":\"stop\"}\n";
    REQUIRE(::write(pair[0], stop.data(), stop.size()) == static_cast<ssize_t>(stop.size()));
    CHECK(read_until("\"state\":\"inactive\""));
    int status = -1;
    CHECK(exec_test::eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }));
    CHECK(WIFEXITED(status));
    reaper.pid = -1;
}

TEST_CASE("run: a client that shuts down its side still gets its stop reply") {
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"}));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_state("active/running"));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, exec.socket_path().c_str(), sizeof address.sun_path - 1);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    const std::string request = "{\"op\":\"status\"}\n{\"op\":\"stop\"}\n";
    REQUIRE(::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
    ::shutdown(fd, SHUT_WR);
    std::string received;
    char chunk[4096];
    for (ssize_t n; (n = ::read(fd, chunk, sizeof chunk)) > 0;)
        received.append(chunk, static_cast<size_t>(n));
    ::close(fd);
    const auto lines = exec_test::lines_of(received);
    REQUIRE(lines.size() >= 2);
    CHECK(lines.front().starts_with("{\"version\":1,"));
    CHECK(lines.back() == R"({"ok":true})");
    // Between the two: the state events of the stop, ending with the final one.
    CHECK(lines[lines.size() - 2].starts_with("{\"event\":\"state\",\"version\":1,"));
    CHECK(lines[lines.size() - 2].find("\"state\":\"inactive\",\"sub_state\":\"dead\"") != std::string::npos);
    CHECK(exec.wait_exit() == 128 + SIGTERM);
}

TEST_CASE("run: KillMode= decides who gets the stop signal") {
    TempDir dir;
    // The main shell waits on a child that says so when it gets SIGTERM.
    const std::string script =
        "(trap 'echo child-got-term; exit 0' TERM; echo child-ready; while :; do sleep 0.05; done) & wait";
    SECTION("control-group: everyone gets SIGTERM") {
        SpecBuilder spec;
        spec.start(shell(script)).set("kill_mode", "\"control-group\"");
        ExecProcess exec(dir, spec);
        REQUIRE(exec.wait_log("child-ready"));
        CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
        CHECK(exec.wait_exit() == 128 + SIGTERM);
        CHECK(exec.log().find("child-got-term") != std::string::npos);
    }
    SECTION("mixed: SIGTERM to the main process, SIGKILL to the rest") {
        SpecBuilder spec;
        spec.start(shell(script)).set("kill_mode", "\"mixed\"");
        ExecProcess exec(dir, spec);
        REQUIRE(exec.wait_log("child-ready"));
        const std::vector<pid_t> service = gitvisor::exec::list_descendants(exec.pid());
        CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
        CHECK(exec.wait_exit() == 128 + SIGTERM);
        CHECK(exec.log().find("child-got-term") == std::string::npos);
        for (const pid_t pid : service) CHECK(exec_test::process_gone(pid));
    }
    SECTION("process: only the main process is stopped") {
        SpecBuilder spec;
        spec.start(shell(script)).set("kill_mode", "\"process\"");
        ExecProcess exec(dir, spec);
        REQUIRE(exec.wait_log("child-ready"));
        const pid_t main = exec.main_host_pid();
        std::vector<pid_t> others;
        for (const pid_t pid : gitvisor::exec::list_descendants(exec.pid())) {
            if (pid != main) others.push_back(pid);
        }
        CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
        CHECK(exec.wait_exit() == 128 + SIGTERM);
        CHECK(exec.state() == "inactive/dead");
        // Without a namespace, what KillMode=process leaves lives on (the test's guard kills it).
        REQUIRE_FALSE(others.empty());
        CHECK_FALSE(exec_test::process_gone(others.front()));
    }
}

TEST_CASE("run: TimeoutStartSec= fails a start that takes too long") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("exec_start_pre", list({command({"sleep", "60"})}))
        .start(shell("echo should-not-run"))
        .set("timeout_start_usec", "200000")
        .set("exec_stop_post", list({shell("echo stop-post $SERVICE_RESULT")}));
    ExecProcess exec(dir, spec);
    CHECK(exec.wait_exit() == 1);
    CHECK(exec.state() == "failed/failed");
    CHECK(exec.field("result") == "timeout");
    CHECK(exec.log().find("should-not-run") == std::string::npos);
    CHECK(exec.log().find("stop-post timeout") != std::string::npos);
}

TEST_CASE("run: the spec may come through an inherited descriptor") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"").start(shell("echo from-fd"));
    exec_test::write_file(dir.file("spec.json"), spec.json(dir.path()));
    const std::string command_line =
        exec_test::kExecBinary + " --spec /proc/self/fd/5 5<" + dir.file("spec.json");
    CHECK(WEXITSTATUS(std::system(command_line.c_str())) == 0);
    CHECK(exec_test::read_file(dir.file("logs/current")).find(" from-fd\n") != std::string::npos);
}

TEST_CASE("run: a service that writes as fast as it can is neither stopped nor loses a line, across rotations") {
    TempDir dir;
    SpecBuilder spec;
    constexpr int kLines = 300000;  // about 30 MB of output, 60 MB of log
    spec.set("type", "\"oneshot\"")
        .start(shell("yes 'a line of output, about a hundred bytes long, written as fast as the pipe takes it ....' "
                     "| head -n " + std::to_string(kLines) + "; echo finished"))
        .set("log_max_bytes", "4000000")
        .set("log_keep", "40");
    ExecProcess exec(dir, spec);
    // The writer was never killed (no SIGPIPE, no EPIPE): the shell ran to its last command.
    REQUIRE(exec.wait_exit(120) == 0);
    size_t lines = 0;
    size_t finished = 0;
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.file("logs"))) {
        ++files;
        std::ifstream in(entry.path());
        for (std::string line; std::getline(in, line);) {
            if (line.ends_with(" written as fast as the pipe takes it ....")) ++lines;
            if (line.ends_with(" finished")) ++finished;
        }
    }
    CHECK(files > 10);  // rotated many times, nothing dropped
    CHECK(lines == static_cast<size_t>(kLines));
    CHECK(finished == 1);
}

namespace {

// A perl program (perl-base is in every Debian) that sends each of `messages` to $NOTIFY_SOCKET, sleeping
// `pause` seconds before each, then sleeps on.
std::string notifier(const std::vector<std::string>& messages, double pause) {
    std::string code = "use Socket; socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die; my $a = pack_sockaddr_un($ENV{NOTIFY_SOCKET});";
    for (const std::string& m : messages) code += " select(undef, undef, undef, " + std::to_string(pause) + "); send($s, \"" + m + "\", 0, $a);";
    code += " sleep 60;";
    return code;
}

}  // namespace

TEST_CASE("run: Type=notify is activating until READY=1, and shows STATUS=") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"notify\"")
        .set("notify_socket", gitvisor::json_quote(dir.file("run/notify")))
        .start(command({"/usr/bin/perl", "-e", notifier({"STATUS=warming up", "READY=1\\nSTATUS=serving"}, 0.5)}));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_state("activating/start"));
    CHECK(exec_test::eventually([&] { return exec.field("status_text") == "warming up"; }));
    CHECK(exec.state() == "activating/start");
    REQUIRE(exec.wait_state("active/running"));
    CHECK(exec.field("status_text") == "serving");
}

TEST_CASE("run: a Type=notify service that exits before READY=1 fails with result protocol") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"notify\"").set("notify_socket", gitvisor::json_quote(dir.file("run/notify"))).start(command({"/bin/true"}));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_state("failed/failed"));
    CHECK(exec.field("result") == "protocol");
}

TEST_CASE("run: NotifyAccess=main ignores READY=1 from another process, all takes it") {
    TempDir dir;
    const std::string from_child = "/usr/bin/perl -e '" + notifier({"READY=1"}, 0.1) + "' & exec sleep 60";
    SECTION("main: the start times out") {
        SpecBuilder spec;
        spec.set("type", "\"notify\"")
            .set("notify_socket", gitvisor::json_quote(dir.file("run/notify")))
            .set("timeout_start_usec", "1500000")
            .start(shell(from_child));
        ExecProcess exec(dir, spec);
        REQUIRE(exec.wait_state("failed/failed"));
        CHECK(exec.field("result") == "timeout");
    }
    SECTION("all: the start succeeds") {
        SpecBuilder spec;
        spec.set("type", "\"notify\"")
            .set("notify_socket", gitvisor::json_quote(dir.file("run/notify")))
            .set("notify_access", "\"all\"")
            .start(shell(from_child));
        ExecProcess exec(dir, spec);
        CHECK(exec.wait_state("active/running"));
    }
}

namespace {

// A perl service that sends READY=1, then WATCHDOG=1 every `every` seconds for `pings` times, then hangs
// (sleeps); it writes $WATCHDOG_USEC to `env_file` first.
std::string pinger(double every, int pings, const std::string& env_file) {
    return "use Socket; open(my $f, '>', '" + env_file + "'); print $f ($ENV{WATCHDOG_USEC} // 'unset'); close $f;"
           " socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die; my $a = pack_sockaddr_un($ENV{NOTIFY_SOCKET});"
           " send($s, 'READY=1', 0, $a); for (1.." + std::to_string(pings) + ") { select(undef, undef, undef, " +
           std::to_string(every) + "); send($s, 'WATCHDOG=1', 0, $a); } sleep 60;";
}

}  // namespace

TEST_CASE("run: WatchdogSec= stops a service whose pings stop, with SIGABRT and result watchdog") {
    TempDir dir;
    SpecBuilder spec;
    // Pings every 0.1 s for 1.5 s (three times the limit), then hangs.
    spec.set("type", "\"notify\"")
        .set("notify_socket", gitvisor::json_quote(dir.file("run/notify")))
        .set("watchdog_usec", "500000")
        .start(command({"/usr/bin/perl", "-e", pinger(0.1, 15, dir.file("env"))}));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_state("active/running"));
    const auto up = std::chrono::steady_clock::now();
    REQUIRE(exec.wait_state("failed/failed", 30));
    // It was kept alive by its pings well past one limit.
    CHECK(std::chrono::steady_clock::now() - up > std::chrono::milliseconds(1000));
    CHECK(exec.field("result") == "watchdog");
    CHECK(exec.field("exit_signal") == std::to_string(SIGABRT));
    CHECK(exec_test::read_file(dir.file("env")) == "500000");
    CHECK(exec_test::read_file(dir.file("logs/current")).find("-- watchdog timeout (limit 500 ms): stopping --") !=
          std::string::npos);
}

TEST_CASE("run: WATCHDOG=trigger fires at once, WatchdogSignal= is sent, Restart=on-watchdog restarts") {
    TempDir dir;
    SpecBuilder spec;
    const std::string trigger =
        "use Socket; socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die; my $a = pack_sockaddr_un($ENV{NOTIFY_SOCKET});"
        " send($s, 'READY=1', 0, $a); open(my $f, '>>', '" + dir.file("starts") + "'); print $f \"x\"; close $f;"
        " select(undef, undef, undef, 0.2); send($s, 'WATCHDOG=trigger', 0, $a); sleep 60;";
    spec.set("type", "\"notify\"")
        .set("notify_socket", gitvisor::json_quote(dir.file("run/notify")))
        .set("watchdog_usec", "60000000")
        .set("watchdog_signal", std::to_string(SIGUSR1))
        .set("restart", "\"on-watchdog\"")
        .set("restart_usec", "100000")
        .set("start_limit_burst", "3")
        .set("start_limit_interval_usec", "60000000")
        .start(command({"/usr/bin/perl", "-e", trigger}));
    ExecProcess exec(dir, spec);
    // Three starts, each ended by its own trigger well before the 60 s limit, then the start limit.
    REQUIRE(exec.wait_state("failed/failed", 30));
    CHECK(exec.field("result") == "start-limit-hit");
    CHECK(exec_test::read_file(dir.file("starts")) == "xxx");
    CHECK(exec.field("exit_signal") == std::to_string(SIGUSR1));
}

TEST_CASE("run: without WatchdogSec= a service is never stopped for silence, and has no $WATCHDOG_USEC") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"notify\"")
        .set("notify_socket", gitvisor::json_quote(dir.file("run/notify")))
        .start(command({"/usr/bin/perl", "-e", pinger(0.1, 1, dir.file("env"))}));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_state("active/running"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    CHECK(exec.state() == "active/running");
    CHECK(exec_test::read_file(dir.file("env")) == "unset");
}

TEST_CASE("run: a stop for a restart begins with RestartKillSignal=, a plain stop with KillSignal=") {
    TempDir dir;
    // Writes the name of the signal that ends it.
    const std::string script = "trap 'echo USR1 > " + dir.file("got") + "; exit 0' USR1; trap 'echo TERM > " +
                               dir.file("got") + "; exit 0' TERM; while :; do sleep 0.05; done";
    SpecBuilder spec;
    spec.start(shell(script)).set("restart_kill_signal", std::to_string(SIGUSR1));
    SECTION("restart") {
        ExecProcess exec(dir, spec);
        REQUIRE(exec.wait_state("active/running"));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the traps are set
        CHECK(exec.request(R"({"op":"stop","restart":true})") == R"({"ok":true})");
        CHECK(exec.wait_exit().has_value());
        CHECK(exec_test::read_file(dir.file("got")) == "USR1\n");
    }
    SECTION("stop") {
        ExecProcess exec(dir, spec);
        REQUIRE(exec.wait_state("active/running"));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        CHECK(exec.request(R"({"op":"stop"})") == R"({"ok":true})");
        CHECK(exec.wait_exit().has_value());
        CHECK(exec_test::read_file(dir.file("got")) == "TERM\n");
    }
}

TEST_CASE("run: RuntimeMaxSec= stops a service that has been active that long, as a failure with result timeout") {
    TempDir dir;
    SpecBuilder spec;
    spec.start(command({"sleep", "60"})).set("runtime_max_usec", "700000");
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_state("active/running"));
    const auto up = std::chrono::steady_clock::now();
    REQUIRE(exec.wait_state("failed/failed", 20));
    CHECK(std::chrono::steady_clock::now() - up >= std::chrono::milliseconds(600));
    CHECK(exec.field("result") == "timeout");
    CHECK(exec.log().find("-- RuntimeMaxSec= (700 ms) reached: stopping --") != std::string::npos);
}

TEST_CASE("run: Type=forking takes its main process from PIDFile= once the launcher exits") {
    TempDir dir;
    SpecBuilder spec;
    const std::string pid_file = dir.file("daemon.pid");
    spec.set("type", "\"forking\"")
        .set("pid_file", gitvisor::json_quote(pid_file))
        .start(shell("sleep 60 & echo $! > " + pid_file + "; sleep 0.2; exit 0"));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_state("active/running"));
    const std::string written = exec_test::read_file(pid_file);
    CHECK(exec.field("main_pid") == written.substr(0, written.find('\n')));
    // The forked daemon is the main process: its end is the unit's.
    const pid_t main = exec.main_host_pid();
    REQUIRE(main > 0);
    ::kill(main, SIGKILL);
    REQUIRE(exec.wait_state("failed/failed"));
    CHECK(exec.field("result") == "signal");
}

TEST_CASE("run: Type=forking without PIDFile= takes the one process left as main") {
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"forking\"").start(shell("sleep 60 & exit 0"));
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_state("active/running"));
    CHECK(exec.field("main_pid") != "0");
}
