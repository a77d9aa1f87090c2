#pragma once
// Times as `gitvisor logs --since/--until` accept them, like journalctl (systemd.time(7)):
//   2026-11-25T13:20:01Z, 2026-11-25T14:20:01.5+01:00   RFC 3339, exact
//   "2026-11-25 13:20:01", "2026-11-25 13:20", 2026-11-25, 13:20, 13:20:01
//                                                        local time (a trailing " UTC" makes it UTC)
//   now, today, yesterday, tomorrow                      (midnight, local time)
//   -5min, +1h, "-1h 30min", "5min ago", "5min left"      relative to now (systemd time spans)
//   @1795008001                                          seconds since the epoch

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace gitvisor::cli {

// The time in µs since the epoch (UTC). Error: "cannot read time 'x': expected ...".
Result<int64_t> parse_time_spec(std::string_view text, int64_t now_usec);

}  // namespace gitvisor::cli
