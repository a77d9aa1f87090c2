#include "exec/status.h"

#include <fcntl.h>

#include <catch2/catch.hpp>

#include "exec_test_support.h"

using gitvisor::exec::ServiceResult;
using gitvisor::exec::Status;
using gitvisor::exec::SubState;
using gitvisor::exec::UnitState;

TEST_CASE("status: the JSON form has every protocol field") {
    Status status;
    status.unit = "web.service";
    status.invocation = "0123456789abcdef0123456789abcdef";
    status.exec_pid = 1;
    status.main_pid = 7;
    status.state = UnitState::Active;
    status.sub_state = SubState::Running;
    status.since_usec = 1795612801123456;
    status.restarts = 2;
    status.exit_signal = 9;
    CHECK(
        gitvisor::exec::status_json(status) ==
        R"({"version":1,"unit":"web.service","invocation":"0123456789abcdef0123456789abcdef","exec_pid":1,)"
        R"("main_pid":7,"state":"active","sub_state":"running","result":"success","since_usec":1795612801123456,)"
        R"("restarts":2,"exit_code":0,"exit_signal":9,"failed_step":"","error":"","status_text":""})");
    status.failed_step = "EXEC";
    status.error = "No such file or directory";
    status.result = ServiceResult::ExitCode;
    const std::string event = gitvisor::exec::status_json(status, true);
    CHECK(event.starts_with(R"({"event":"state","version":1,"unit":"web.service",)"));
    status.status_text = "warming up";
    CHECK(gitvisor::exec::status_json(status, true)
              .ends_with(R"("failed_step":"EXEC","error":"No such file or directory","status_text":"warming up"})"));
}

TEST_CASE("status: string tables go both ways") {
    for (const auto state : {UnitState::Inactive, UnitState::Activating, UnitState::Active,
                             UnitState::Reloading, UnitState::Deactivating, UnitState::Failed}) {
        CHECK(gitvisor::exec::unit_state_from_string(gitvisor::exec::to_string(state)) == state);
    }
    for (const auto sub :
         {SubState::Dead, SubState::StartPre, SubState::Start, SubState::Running, SubState::Exited,
          SubState::Reload, SubState::AutoRestart, SubState::Stop, SubState::Failed}) {
        CHECK(gitvisor::exec::sub_state_from_string(gitvisor::exec::to_string(sub)) == sub);
    }
    for (const auto result :
         {ServiceResult::Success, ServiceResult::ExitCode, ServiceResult::Signal, ServiceResult::CoreDump,
          ServiceResult::Timeout, ServiceResult::StartLimitHit, ServiceResult::Resources,
          ServiceResult::Protocol}) {
        CHECK(gitvisor::exec::service_result_from_string(gitvisor::exec::to_string(result)) == result);
    }
    CHECK(std::string(gitvisor::exec::to_string(SubState::AutoRestart)) == "auto-restart");
    CHECK(std::string(gitvisor::exec::to_string(ServiceResult::StartLimitHit)) == "start-limit-hit");
    CHECK_FALSE(gitvisor::exec::unit_state_from_string("Active"));
}

TEST_CASE("status: files are replaced atomically") {
    exec_test::TempDir dir;
    const int dir_fd = ::open(dir.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dir_fd >= 0);
    REQUIRE(gitvisor::exec::write_file_atomically(dir_fd, "status.json", "one\n"));
    REQUIRE(gitvisor::exec::write_file_atomically(dir_fd, "status.json", "two\n"));
    CHECK(exec_test::read_file(dir.file("status.json")) == "two\n");
    CHECK_FALSE(std::filesystem::exists(dir.file("status.json.tmp")));
    const auto failed = gitvisor::exec::write_file_atomically(dir_fd, "missing/status.json", "x");
    CHECK_FALSE(failed);
    CHECK(failed.error() == "cannot write 'missing/status.json': No such file or directory");
    ::close(dir_fd);
}
