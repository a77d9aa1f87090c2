#pragma once
// Clocks in microseconds, and the invocation id (a new one for every start, as systemd's).

#include <cstdint>
#include <string>

namespace gitvisor::exec {

int64_t monotonic_usec();
int64_t realtime_usec();

// 32 lowercase hex digits from getrandom().
std::string new_invocation_id();

}  // namespace gitvisor::exec
