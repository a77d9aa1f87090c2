#include "exec/spec.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <string>

using gitvisor::exec::KillMode;
using gitvisor::exec::parse_spec;
using gitvisor::exec::RestartPolicy;
using gitvisor::exec::ServiceType;
using gitvisor::exec::Spec;

namespace {

const std::string kMinimal =
    R"("version":1,"unit":"web.service","status_file":"/run/s.json","control_socket":"/run/c.sock")";

Spec parse_ok(const std::string& extra) {
    auto spec = parse_spec("{" + kMinimal + extra + "}");
    INFO(spec.error());
    REQUIRE(spec);
    return *spec;
}

std::string parse_error(const std::string& extra) {
    auto spec = parse_spec("{" + kMinimal + extra + "}");
    REQUIRE_FALSE(spec);
    return spec.error();
}

}  // namespace

TEST_CASE("spec: defaults are systemd's") {
    const Spec spec = parse_ok(R"(,"exec_start":[{"path":"/bin/true"}])");
    CHECK(spec.unit == "web.service");
    CHECK(spec.type == ServiceType::Simple);
    CHECK(spec.restart == RestartPolicy::No);
    CHECK(spec.restart_usec == 100000);
    CHECK(spec.start_limit_interval_usec == 10000000);
    CHECK(spec.start_limit_burst == 5);
    CHECK(spec.kill_mode == KillMode::ControlGroup);
    CHECK(spec.kill_signal == SIGTERM);
    CHECK(spec.final_kill_signal == SIGKILL);
    CHECK(spec.send_sigkill);
    CHECK_FALSE(spec.send_sighup);
    CHECK(spec.umask == 022);
    CHECK_FALSE(spec.nice);
    REQUIRE(spec.exec_start.size() == 1);
    // argv defaults to the path alone.
    CHECK(spec.exec_start[0].argv == std::vector<std::string>{"/bin/true"});
    CHECK(spec.log_max_bytes == 16 * 1024 * 1024);
    CHECK(spec.log_keep == 4);
}

TEST_CASE("spec: every documented field is read") {
    const Spec spec = parse_ok(R"(,
        "invocation":"0123456789abcdef0123456789abcdef","type":"oneshot",
        "exec_condition":[{"path":"/bin/test","argv":["test","-e","/x"]}],
        "exec_start_pre":[{"path":"mkdir","argv":["mkdir","-p","/a"],"ignore_failure":true}],
        "exec_start":[{"path":"/bin/a"},{"path":"/bin/b","argv":["b","$X"],"no_env_expand":true}],
        "exec_start_post":[{"path":"/bin/c","full_privileges":true}],
        "exec_reload":[{"path":"/bin/r"}],"exec_stop":[{"path":"/bin/s"}],"exec_stop_post":[{"path":"/bin/p"}],
        "environment":{"B":"2","A":"1"},"environment_files":["-/etc/x.env"],"unset_environment":["C","D=4"],
        "user":"nobody","group":"nogroup","supplementary_groups":["adm"],"working_directory":"-~",
        "umask":63,"nice":5,"oom_score_adjust":-100,"rlimits":{"NOFILE":[1024,4096],"CORE":[-1,-1]},
        "no_new_privileges":true,"private_tmp":true,"restart":"on-failure","restart_usec":0,
        "success_exit_status":{"statuses":[3],"signals":[10]},
        "restart_prevent_exit_status":{"statuses":[4]},"restart_force_exit_status":{"signals":[12]},
        "start_limit_interval_usec":0,"start_limit_burst":2,"remain_after_exit":true,
        "timeout_start_usec":-1,"timeout_stop_usec":7000000,"kill_mode":"mixed","kill_signal":2,
        "final_kill_signal":3,"send_sigkill":false,"send_sighup":true,
        "cgroup_procs":["/sys/fs/cgroup/pids/x/cgroup.procs"],"log_file":"/var/log/x","log_max_bytes":0,
        "log_keep":2,"unknown_future_field":{"ignored":true})");
    CHECK(spec.invocation == "0123456789abcdef0123456789abcdef");
    CHECK(spec.type == ServiceType::Oneshot);
    REQUIRE(spec.exec_condition.size() == 1);
    CHECK(spec.exec_condition[0].argv == std::vector<std::string>{"test", "-e", "/x"});
    CHECK(spec.exec_start_pre[0].ignore_failure);
    REQUIRE(spec.exec_start.size() == 2);
    CHECK(spec.exec_start[1].no_env_expand);
    CHECK(spec.exec_start_post[0].full_privileges);
    CHECK(spec.exec_reload.size() == 1);
    CHECK(spec.exec_stop.size() == 1);
    CHECK(spec.exec_stop_post.size() == 1);
    // Environment keeps the file's order.
    REQUIRE(spec.environment.size() == 2);
    CHECK(spec.environment[0] == std::pair<std::string, std::string>{"B", "2"});
    CHECK(spec.environment_files == std::vector<std::string>{"-/etc/x.env"});
    CHECK(spec.unset_environment == std::vector<std::string>{"C", "D=4"});
    CHECK(spec.user == "nobody");
    CHECK(spec.group == "nogroup");
    CHECK(spec.supplementary_groups == std::vector<std::string>{"adm"});
    CHECK(spec.working_directory == "-~");
    CHECK(spec.umask == 077);
    CHECK(spec.nice == 5);
    CHECK(spec.oom_score_adjust == -100);
    REQUIRE(spec.rlimits.size() == 2);
    CHECK(spec.rlimits[0].resource == RLIMIT_NOFILE);
    CHECK(spec.rlimits[0].soft == 1024);
    CHECK(spec.rlimits[0].hard == 4096);
    CHECK(spec.rlimits[1].resource == RLIMIT_CORE);
    CHECK(spec.rlimits[1].soft == RLIM_INFINITY);
    CHECK(spec.no_new_privileges);
    CHECK(spec.private_tmp);
    CHECK(spec.restart == RestartPolicy::OnFailure);
    CHECK(spec.restart_usec == 0);
    CHECK(spec.success_exit_status.has_status(3));
    CHECK(spec.success_exit_status.has_signal(10));
    CHECK(spec.restart_prevent_exit_status.has_status(4));
    CHECK(spec.restart_force_exit_status.has_signal(12));
    CHECK(spec.start_limit_interval_usec == 0);
    CHECK(spec.start_limit_burst == 2);
    CHECK(spec.remain_after_exit);
    CHECK(spec.timeout_start_usec == -1);
    CHECK(spec.timeout_stop_usec == 7000000);
    CHECK(spec.kill_mode == KillMode::Mixed);
    CHECK(spec.kill_signal == 2);
    CHECK(spec.final_kill_signal == 3);
    CHECK_FALSE(spec.send_sigkill);
    CHECK(spec.send_sighup);
    CHECK(spec.cgroup_procs.size() == 1);
    CHECK(spec.log_file == "/var/log/x");
    CHECK(spec.log_max_bytes == 0);
    CHECK(spec.log_keep == 2);
}

TEST_CASE("spec: nulls mean the default") {
    const Spec spec = parse_ok(R"(,"exec_start":[{"path":"/bin/true"}],"nice":null,"user":null)");
    CHECK_FALSE(spec.nice);
    CHECK(spec.user.empty());
}

TEST_CASE("spec: errors name the field") {
    const std::string start = R"(,"exec_start":[{"path":"/bin/true"}])";
    CHECK(parse_error(start + R"(,"restart":"sometimes")") == "field 'restart': unknown value 'sometimes'");
    CHECK(parse_error(start + R"(,"type":"Simple")") == "field 'type': unknown value 'Simple'");
    CHECK(parse_error(start + R"(,"user":5)") == "field 'user': expected a string, got a number");
    CHECK(parse_error(start + R"(,"restart_usec":1.5)") == "field 'restart_usec': expected an integer");
    CHECK(parse_error(start + R"(,"nice":30)") == "field 'nice': value 30 out of range");
    CHECK(parse_error(start + R"(,"kill_signal":0)") == "field 'kill_signal': value 0 out of range");
    CHECK(parse_error(start + R"(,"rlimits":{"FILES":[1,2]})") == "field 'rlimits': unknown limit 'FILES'");
    CHECK(parse_error(start + R"(,"rlimits":{"NOFILE":5})") ==
          "field 'rlimits': 'NOFILE' must be [soft, hard]");
    CHECK(parse_error(start + R"(,"environment":{"A":1})") ==
          "field 'environment': the value of 'A' must be a string");
    CHECK(parse_error(start + R"(,"cgroup_procs":[1])") ==
          "field 'cgroup_procs': expected an array of strings");
    CHECK(parse_error(start + R"(,"success_exit_status":{"statuses":["x"]})") ==
          "field 'success_exit_status': 'statuses' must be an array of numbers");
    CHECK(parse_error(R"(,"exec_start":[{"argv":["x"]}])") == "field 'exec_start': a command without 'path'");
    CHECK(parse_error(R"(,"exec_start":["/bin/true"])") ==
          "field 'exec_start': expected an array of commands (objects)");
    CHECK(parse_error(R"(,"exec_stop":[{"path":"/x","ignore_failure":"yes"}])") ==
          "field 'exec_stop': field 'ignore_failure': expected a boolean, got a string");
    CHECK(parse_error("") == "field 'exec_start': missing (only Type=oneshot may have none)");
}

TEST_CASE("spec: version, required fields and JSON errors") {
    CHECK(parse_spec(R"({"unit":"a"})").error() == "field 'version': expected 1");
    CHECK(parse_spec(R"({"version":2})").error() == "field 'version': expected 1");
    CHECK(parse_spec(R"([1])").error() == "the spec must be a JSON object");
    CHECK(parse_spec(R"({"version":1,)").error() == "line 1, column 14: expected a string as object key");
    CHECK(parse_spec(R"({"version":1,"status_file":"/s","control_socket":"/c","type":"oneshot"})").error() ==
          "field 'unit': missing");
    // A oneshot unit may have no ExecStart= at all.
    CHECK(
        parse_spec(R"({"version":1,"unit":"a","status_file":"/s","control_socket":"/c","type":"oneshot"})"));
}

TEST_CASE("spec: string tables go both ways") {
    for (const auto type : {ServiceType::Simple, ServiceType::Exec, ServiceType::Oneshot, ServiceType::Notify,
                            ServiceType::Forking}) {
        CHECK(gitvisor::exec::service_type_from_string(gitvisor::exec::to_string(type)) == type);
    }
    for (const auto policy :
         {RestartPolicy::No, RestartPolicy::OnSuccess, RestartPolicy::OnFailure, RestartPolicy::OnAbnormal,
          RestartPolicy::OnWatchdog, RestartPolicy::OnAbort, RestartPolicy::Always}) {
        CHECK(gitvisor::exec::restart_policy_from_string(gitvisor::exec::to_string(policy)) == policy);
    }
    for (const auto mode : {KillMode::ControlGroup, KillMode::Mixed, KillMode::Process, KillMode::None}) {
        CHECK(gitvisor::exec::kill_mode_from_string(gitvisor::exec::to_string(mode)) == mode);
    }
    CHECK_FALSE(gitvisor::exec::kill_mode_from_string("Mixed"));
    CHECK(gitvisor::exec::rlimit_from_name("RTTIME") == RLIMIT_RTTIME);
    CHECK(gitvisor::exec::rlimit_from_name("nofile") == -1);
}
