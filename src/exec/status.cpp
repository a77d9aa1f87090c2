#include "exec/status.h"

#include "common/enum_names.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/json.h"
#include "common/unique_fd.h"

namespace gitvisor::exec {
namespace {

constexpr std::array<std::pair<UnitState, const char*>, 6> kUnitStates{{
    {UnitState::Inactive, "inactive"},
    {UnitState::Activating, "activating"},
    {UnitState::Active, "active"},
    {UnitState::Reloading, "reloading"},
    {UnitState::Deactivating, "deactivating"},
    {UnitState::Failed, "failed"},
}};

constexpr std::array<std::pair<SubState, const char*>, 9> kSubStates{{
    {SubState::Dead, "dead"},
    {SubState::StartPre, "start-pre"},
    {SubState::Start, "start"},
    {SubState::Running, "running"},
    {SubState::Exited, "exited"},
    {SubState::Reload, "reload"},
    {SubState::AutoRestart, "auto-restart"},
    {SubState::Stop, "stop"},
    {SubState::Failed, "failed"},
}};

constexpr std::array<std::pair<ServiceResult, const char*>, 9> kResults{{
    {ServiceResult::Success, "success"},
    {ServiceResult::ExitCode, "exit-code"},
    {ServiceResult::Signal, "signal"},
    {ServiceResult::CoreDump, "core-dump"},
    {ServiceResult::Timeout, "timeout"},
    {ServiceResult::StartLimitHit, "start-limit-hit"},
    {ServiceResult::Resources, "resources"},
    {ServiceResult::Protocol, "protocol"},
    {ServiceResult::Watchdog, "watchdog"},
}};

bool write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        text.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

}  // namespace

const char* to_string(UnitState state) { return name_of(state, kUnitStates); }
const char* to_string(SubState sub_state) { return name_of(sub_state, kSubStates); }
const char* to_string(ServiceResult result) { return name_of(result, kResults); }
std::optional<UnitState> unit_state_from_string(std::string_view text) { return value_of(text, kUnitStates); }
std::optional<SubState> sub_state_from_string(std::string_view text) { return value_of(text, kSubStates); }
std::optional<ServiceResult> service_result_from_string(std::string_view text) {
    return value_of(text, kResults);
}

std::string status_json(const Status& s, bool event) {
    std::string out;
    out.reserve(384);
    out += event ? "{\"event\":\"state\",\"version\":1" : "{\"version\":1";
    out += ",\"unit\":" + json_quote(s.unit);
    out += ",\"invocation\":" + json_quote(s.invocation);
    out += ",\"exec_pid\":" + std::to_string(s.exec_pid);
    out += ",\"main_pid\":" + std::to_string(s.main_pid);
    out += ",\"state\":\"" + std::string(to_string(s.state)) + '"';
    out += ",\"sub_state\":\"" + std::string(to_string(s.sub_state)) + '"';
    out += ",\"result\":\"" + std::string(to_string(s.result)) + '"';
    out += ",\"since_usec\":" + std::to_string(s.since_usec);
    out += ",\"restarts\":" + std::to_string(s.restarts);
    out += ",\"exit_code\":" + std::to_string(s.exit_code);
    out += ",\"exit_signal\":" + std::to_string(s.exit_signal);
    out += ",\"failed_step\":" + json_quote(s.failed_step);
    out += ",\"error\":" + json_quote(s.error);
    out += ",\"status_text\":" + json_quote(s.status_text);
    out += '}';
    return out;
}

Result<bool> write_file_atomically(int dir_fd, const std::string& name, std::string_view text) {
    const std::string temporary = name + ".tmp";
    const auto fail = [&](int error) {
        ::unlinkat(dir_fd, temporary.c_str(), 0);
        return Result<bool>::fail("cannot write '" + name + "': " + std::strerror(error));
    };
    UniqueFd fd(::openat(dir_fd, temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) return Result<bool>::fail("cannot write '" + name + "': " + std::strerror(errno));
    if (!write_all(fd.get(), text)) return fail(errno == 0 ? EIO : errno);
    if (::fsync(fd.get()) != 0) return fail(errno);
    if (::close(fd.release()) != 0) return fail(errno);
    if (::renameat(dir_fd, temporary.c_str(), dir_fd, name.c_str()) != 0) return fail(errno);
    return Result<bool>::ok(true);
}

}  // namespace gitvisor::exec
