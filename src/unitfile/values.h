#pragma once
// Parsers for the value syntaxes of systemd unit files (SYSTEMD-SYNTAX.md §1.13, §6-§10):
// booleans, time spans, sizes, percentages, signals, exit statuses, resource limits.
// Each returns a Result whose error is a short phrase that completes
// "invalid value '<v>' for <Key>: <error>", e.g. "unknown time unit 'S'".
// Formatters give the canonical text used for normalised output and spec hashes.
// Implemented by values.cpp (booleans, integers, modes), values_time.cpp, values_size.cpp (sizes,
// percentages, CPU quota), values_signal.cpp (signals, exit statuses), values_rlimit.cpp and
// values_sandbox.cpp (the seccomp settings).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gitvisor::unitfile {

inline constexpr uint64_t kInfinity = UINT64_MAX;
inline constexpr uint64_t kUsecPerSec = 1'000'000;

// "1 yes y true t on" / "0 no n false f off", case-insensitive.
Result<bool> parse_bool(std::string_view text);

// A time span in microseconds: items "<number>[unit]" summed ("5min 20s", "1h30m", ".5s", "1h 30").
// A bare number counts in `bare_unit_usec` (seconds by default). "infinity" gives kInfinity.
// Rejects negative numbers, unknown units ("10S", "1ns"), "1.s", trailing junk, empty text.
Result<uint64_t> parse_timespan(std::string_view text, uint64_t bare_unit_usec = kUsecPerSec);
// Canonical form as systemd prints it: "5min 20s", "100ms", "1h 30min", "0", "infinity".
std::string format_timespan(uint64_t usec);

// A byte count, a percentage or "infinity" (MemoryMax=, TasksMax=, ...).
struct Limit {
    enum class Kind { Value, Percent, Infinity };
    Kind kind = Kind::Infinity;
    uint64_t value = 0;  // bytes or count for Value; hundredths of a percent (permyriad) for Percent
    bool operator==(const Limit&) const = default;
};
// Sizes: bytes with optional suffix K M G T P E (base 1024, fractions allowed: "1.5G"), a space before the
// suffix allowed ("1 G"); lowercase suffixes, "GB", "Gi", negative values rejected. "infinity" allowed.
// With allow_percent, "50%" / "10.5%" give Kind::Percent. With allow_zero false, 0 is "out of range".
Result<Limit> parse_size(std::string_view text, bool allow_percent, bool allow_zero = false);
// A plain count (no suffixes), a percentage or "infinity" (TasksMax=).
Result<Limit> parse_count_limit(std::string_view text);
// "1073741824" -> "1G", exact multiples only (else bytes); "50%", "10.5%"; "infinity".
std::string format_limit(const Limit& limit);

// CPUQuota=: "20%" -> 200000 (CPU µs per second of wall time). "0%" and values without '%' rejected.
Result<uint64_t> parse_cpu_quota(std::string_view text);

// An integer within [min, max], read as systemd's safe_atoi() reads it (strtol() with base 0, plus
// "0b"/"0o"): leading blanks (space, tab, newline, CR); then a "0b"/"0B" (binary) or "0o"/"0O" (octal)
// prefix; one optional sign; then, without such a prefix, "0x"/"0X" for hex, a leading "0" for octal, else
// decimal. Nothing may follow the digits. So "0x1f" is 31, "010" is 8, "0o17" is 15, "0b101" is 5 and
// "-0x10" is -16; the sign goes after "0b"/"0o" ("0o-7" is -7, "+0o7" is rejected). "08", "0x", "5 " and
// "1.5" are rejected. Errors: "expected a whole number between <min> and <max>", or
// "value out of range (must be between <min> and <max>)".
Result<int64_t> parse_integer(std::string_view text, int64_t min, int64_t max);

// CAP_CHOWN -> 0 ... CAP_CHECKPOINT_RESTORE -> 40 (capabilities(7)); -1 for a name the kernel does not have.
int capability_number(std::string_view name);

// Octal file mode 0..07777 (UMask=): "0022", "022", "22".
Result<uint32_t> parse_mode(std::string_view text);

// A signal by name with or without "SIG" ("TERM", "SIGTERM"), by number ("9"), or real-time
// ("SIGRTMIN+1", "RTMIN+1", "SIGRTMAX-2"). Returns the signal number.
Result<int> parse_signal(std::string_view text);
// "SIGTERM", "SIGRTMIN+1"; a number with no name as its decimal text.
std::string signal_name(int signo);

// SuccessExitStatus= / RestartPreventExitStatus= / RestartForceExitStatus=: space-separated exit
// codes (0..255) and signal names (not numbers: a number is always an exit code).
struct ExitStatusSet {
    std::vector<int> statuses;  // sorted, unique
    std::vector<int> signals;   // sorted, unique
    bool operator==(const ExitStatusSet&) const = default;
};
Result<ExitStatusSet> parse_exit_status_set(std::string_view text);

// Limit*= (setrlimit): "n" (soft = hard) or "soft:hard", each a number or "infinity".
// `key` selects the unit syntax: byte limits (LimitFSIZE, LimitDATA, LimitSTACK, LimitCORE, LimitRSS,
// LimitAS, LimitMEMLOCK, LimitMSGQUEUE) accept K M G T P E (base 1024); LimitCPU takes a time span in
// seconds (bare = seconds, result in seconds); LimitRTTIME a time span in µs (bare = µs, result in µs);
// the rest plain integers (LimitNICE also accepts "+N"/"-N" priorities, mapped as systemd does: 20 - nice).
struct RLimit {
    uint64_t soft = kInfinity;  // kInfinity = RLIM_INFINITY
    uint64_t hard = kInfinity;
    bool operator==(const RLimit&) const = default;
};
Result<RLimit> parse_rlimit(std::string_view key, std::string_view text);
std::string format_rlimit(const RLimit& limit);  // "1024", "1024:4096", "infinity"

// The seccomp settings of systemd.exec(5), each assignment checked and given back with one space between
// words (gitvisor-exec merges the assignments as systemd does):
// SystemCallFilter=: "[~]name|@group ...", a name may end in ":EPERM" (or a number) in a '~' list; an
// unknown name is accepted (and later skipped, as in systemd), an unknown group is an error.
Result<std::string> parse_syscall_filter(std::string_view text);
// SystemCallErrorNumber=: an errno name, a number 1-4095, or "kill".
Result<std::string> parse_errno_action(std::string_view text);
// SystemCallArchitectures=: "native" and architecture names.
Result<std::vector<std::string>> parse_architectures(std::string_view text);
// RestrictAddressFamilies=: "none", or "[~]AF_UNIX AF_INET ...".
Result<std::string> parse_address_families(std::string_view text);
// RestrictNamespaces=: a boolean (yes -> "", no -> "~"), or "[~]cgroup ipc net mnt pid user uts".
Result<std::string> parse_namespaces(std::string_view text);

}  // namespace gitvisor::unitfile
