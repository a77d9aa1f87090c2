#pragma once
// Exit codes of every gitvisor program (DESIGN §7). Scripts depend on them: never renumber.

namespace gitvisor {

enum ExitCode : int {
    kExitSuccess = 0,
    kExitFailure = 1,           // the operation failed (or `verify` found an error)
    kExitUsage = 2,             // bad command line
    kExitNotActive = 3,         // `status` of a unit that is not active (as LSB/systemctl)
    kExitNoSuchUnit = 4,
    kExitPermissionDenied = 5,
};

}  // namespace gitvisor
