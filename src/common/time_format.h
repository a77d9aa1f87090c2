#pragma once
// Time stamps as gitvisor prints them.

#include <cstdint>
#include <string>

namespace gitvisor {

int64_t realtime_usec();  // CLOCK_REALTIME in µs
// "2026-11-25T13:20:01Z" (UTC, RFC 3339); "" for 0.
std::string format_rfc3339(int64_t usec);
// "2026-11-25 13:20:01 UTC" for people.
std::string format_human_time(int64_t usec);
// "5s", "3min 2s", "2h 5min", "3 days" — how long ago, for status lines.
std::string format_age(int64_t usec_ago);

}  // namespace gitvisor
