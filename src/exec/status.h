#pragma once
// The unit's status as gitvisor-exec reports it (docs/exec-protocol.md, "Status"): the state model with
// string tables both ways, the JSON form shared by the status file, the `status` reply and the pushed
// `state` events, and the atomic file write (temporary file, fsync, rename — as s6_svstatus_write).

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gitvisor::exec {

// systemd's unit active states.
enum class UnitState { Inactive, Activating, Active, Reloading, Deactivating, Failed };
// The service sub-states gitvisor reports; several internal phases share one (stop, the kill phases and
// ExecStopPost= are all "stop"; ExecCondition= is "start-pre" and ExecStartPost= is "start").
enum class SubState { Dead, StartPre, Start, Running, Exited, Reload, AutoRestart, Stop, Failed };
// Why the service last ended; Success while nothing failed.
// Protocol: a Type=notify main process exited before it said READY=1.
enum class ServiceResult { Success, ExitCode, Signal, CoreDump, Timeout, StartLimitHit, Resources, Protocol, Watchdog };

const char* to_string(UnitState state);
const char* to_string(SubState sub_state);
const char* to_string(ServiceResult result);
std::optional<UnitState> unit_state_from_string(std::string_view text);
std::optional<SubState> sub_state_from_string(std::string_view text);
std::optional<ServiceResult> service_result_from_string(std::string_view text);

struct Status {
    std::string unit;
    std::string invocation;
    pid_t exec_pid = 0;
    pid_t main_pid = 0;  // 0 when no main process runs
    UnitState state = UnitState::Inactive;
    SubState sub_state = SubState::Dead;
    ServiceResult result = ServiceResult::Success;
    int64_t since_usec = 0;  // CLOCK_REALTIME of the last state change
    unsigned restarts = 0;
    // The last exit of the main process, or of the command whose failure set `result`: one of the two is
    // non-zero, or both are 0 (exited with 0, or nothing has exited yet).
    int exit_code = 0;
    int exit_signal = 0;
    std::string failed_step;  // "EXEC", "CHDIR", ... when a command could not be started, else ""
    std::string error;        // the errno text that goes with failed_step, else ""
    std::string status_text;  // the last STATUS= the service sent (sd_notify), else ""
};

// The status as one JSON object on one line, without a newline. With `event`, it starts with
// "event":"state" (the pushed form).
std::string status_json(const Status& status, bool event = false);

// Writes `text` to the file `name` in the directory `dir_fd` atomically: NAME.tmp, fsync, rename.
// Errors: "cannot write 'NAME': <errno text>".
Result<bool> write_file_atomically(int dir_fd, const std::string& name, std::string_view text);

}  // namespace gitvisor::exec
