#include "unitfile/values.h"

// Signals and exit statuses, by systemd's tables (signal_from_string(), exit_status_from_string()).

#include <algorithm>
#include <array>
#include <csignal>
#include <utility>
#include <vector>

#include "unitfile/values_internal.h"

namespace gitvisor::unitfile {

using namespace detail;

// ---- Signals -----------------------------------------------------------------------------------------

namespace {

constexpr int kMaxSignal = 64;  // Linux _NSIG - 1

char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string uppercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), to_upper);
    return out;
}

struct SignalName {
    int signo;
    std::string_view name;
};

// systemd's table: the names strsignal() abbreviates, without aliases such as IOT, POLL or CLD.
constexpr auto kSignalNames = std::to_array<SignalName>(
    {{SIGHUP, "HUP"},       {SIGINT, "INT"},     {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},   {SIGTRAP, "TRAP"},
     {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},     {SIGFPE, "FPE"},   {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},
     {SIGSEGV, "SEGV"},     {SIGUSR2, "USR2"},   {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"}, {SIGTERM, "TERM"},
#ifdef SIGSTKFLT
     {SIGSTKFLT, "STKFLT"},
#endif
     {SIGCHLD, "CHLD"},     {SIGCONT, "CONT"},   {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"}, {SIGTTIN, "TTIN"},
     {SIGTTOU, "TTOU"},     {SIGURG, "URG"},     {SIGXCPU, "XCPU"}, {SIGXFSZ, "XFSZ"}, {SIGVTALRM, "VTALRM"},
     {SIGPROF, "PROF"},     {SIGWINCH, "WINCH"}, {SIGIO, "IO"},     {SIGPWR, "PWR"},   {SIGSYS, "SYS"}});

// Aliases systemd does not take, and the name to write instead.
constexpr auto kSignalAliases = std::to_array<std::pair<std::string_view, std::string_view>>(
    {{"IOT", "SIGABRT"}, {"POLL", "SIGIO"}, {"CLD", "SIGCHLD"}, {"UNUSED", "SIGSYS"}});

Result<int> parse_signal_exact(std::string_view text) {
    if (text.empty()) {
        return Result<int>::fail("empty value (write a signal such as SIGTERM)");
    }
    // 1. A number.
    auto number = parse_c_int(text);
    if (number) {
        if (*number < 1 || *number > kMaxSignal) {
            return Result<int>::fail("signal number must be between 1 and " + std::to_string(kMaxSignal));
        }
        return Result<int>::ok(*number);
    }
    if (number.error() != "expected a number") {
        return Result<int>::fail("signal number must be between 1 and " + std::to_string(kMaxSignal));
    }
    // 2. A name, "SIG" optional.
    std::string_view name = text.starts_with("SIG") ? text.substr(3) : text;
    for (const SignalName& signal : kSignalNames) {
        if (signal.name == name) {
            return Result<int>::ok(signal.signo);
        }
    }
    // 3. A real-time signal counted from either end; the range is fixed at run time by the C library.
    const int rt_span = SIGRTMAX - SIGRTMIN;
    const std::string rt_range = "(use SIGRTMIN+0 to SIGRTMIN+" + std::to_string(rt_span) + ", or SIGRTMAX-" +
                                 std::to_string(rt_span) + " to SIGRTMAX-0)";
    for (bool from_min : {true, false}) {
        std::string_view base = from_min ? "RTMIN" : "RTMAX";
        if (!name.starts_with(base)) {
            continue;
        }
        std::string_view offset_text = name.substr(base.size());
        if (offset_text.empty()) {
            return Result<int>::ok(from_min ? SIGRTMIN : SIGRTMAX);
        }
        auto offset = parse_c_int(offset_text);
        if (offset_text[0] != (from_min ? '+' : '-') || !offset) {
            return Result<int>::fail("invalid real-time signal " + quoted(text) + " " + rt_range);
        }
        if (from_min ? (*offset < 0 || *offset > rt_span) : (*offset > 0 || *offset < -rt_span)) {
            return Result<int>::fail("real-time signal out of range " + rt_range);
        }
        return Result<int>::ok((from_min ? SIGRTMIN : SIGRTMAX) + *offset);
    }
    for (const auto& [alias, replacement] : kSignalAliases) {
        if (name == alias) {
            return Result<int>::fail("unknown signal " + quoted(text) + " (write " + quoted(replacement) +
                                     ")");
        }
    }
    return Result<int>::fail("unknown signal " + quoted(text) +
                             " (use a name such as SIGTERM or TERM, SIGRTMIN+N, or a number 1.." +
                             std::to_string(kMaxSignal) + ")");
}

}  // namespace

Result<int> parse_signal(std::string_view text) {
    auto signo = parse_signal_exact(text);
    if (!signo && signo.error().starts_with("unknown signal")) {
        // Names are case-sensitive in systemd; point at the spelling that works.
        const std::string upper = uppercase(text);
        if (upper != text && parse_signal_exact(upper)) {
            const std::string canonical = upper.starts_with("SIG") ? upper : "SIG" + upper;
            return Result<int>::fail("unknown signal " + quoted(text) +
                                     " (signal names are case-sensitive: write " + quoted(canonical) + ")");
        }
    }
    return signo;
}

std::string signal_name(int signo) {
    for (const SignalName& signal : kSignalNames) {
        if (signal.signo == signo) {
            return "SIG" + std::string(signal.name);
        }
    }
    if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
        return "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
    }
    return std::to_string(signo);
}

// ---- Exit statuses -----------------------------------------------------------------------------------

namespace {

// The exit status names systemd 252 accepts (systemd-analyze exit-status): C, LSB, BSD sysexits.h and
// systemd's own codes.
constexpr auto kExitStatusNames =
    std::to_array<std::pair<std::string_view, int>>({{"SUCCESS", 0},
                                                     {"FAILURE", 1},
                                                     {"INVALIDARGUMENT", 2},
                                                     {"NOTIMPLEMENTED", 3},
                                                     {"NOPERMISSION", 4},
                                                     {"NOTINSTALLED", 5},
                                                     {"NOTCONFIGURED", 6},
                                                     {"NOTRUNNING", 7},
                                                     {"USAGE", 64},
                                                     {"DATAERR", 65},
                                                     {"NOINPUT", 66},
                                                     {"NOUSER", 67},
                                                     {"NOHOST", 68},
                                                     {"UNAVAILABLE", 69},
                                                     {"SOFTWARE", 70},
                                                     {"OSERR", 71},
                                                     {"OSFILE", 72},
                                                     {"CANTCREAT", 73},
                                                     {"IOERR", 74},
                                                     {"TEMPFAIL", 75},
                                                     {"PROTOCOL", 76},
                                                     {"NOPERM", 77},
                                                     {"CONFIG", 78},
                                                     {"CHDIR", 200},
                                                     {"NICE", 201},
                                                     {"FDS", 202},
                                                     {"EXEC", 203},
                                                     {"MEMORY", 204},
                                                     {"LIMITS", 205},
                                                     {"OOM_ADJUST", 206},
                                                     {"SIGNAL_MASK", 207},
                                                     {"STDIN", 208},
                                                     {"STDOUT", 209},
                                                     {"CHROOT", 210},
                                                     {"IOPRIO", 211},
                                                     {"TIMERSLACK", 212},
                                                     {"SECUREBITS", 213},
                                                     {"SETSCHEDULER", 214},
                                                     {"CPUAFFINITY", 215},
                                                     {"GROUP", 216},
                                                     {"USER", 217},
                                                     {"CAPABILITIES", 218},
                                                     {"CGROUP", 219},
                                                     {"SETSID", 220},
                                                     {"CONFIRM", 221},
                                                     {"STDERR", 222},
                                                     {"PAM", 224},
                                                     {"NETWORK", 225},
                                                     {"NAMESPACE", 226},
                                                     {"NO_NEW_PRIVILEGES", 227},
                                                     {"SECCOMP", 228},
                                                     {"SELINUX_CONTEXT", 229},
                                                     {"PERSONALITY", 230},
                                                     {"APPARMOR", 231},
                                                     {"ADDRESS_FAMILIES", 232},
                                                     {"RUNTIME_DIRECTORY", 233},
                                                     {"CHOWN", 235},
                                                     {"SMACK_PROCESS_LABEL", 236},
                                                     {"KEYRING", 237},
                                                     {"STATE_DIRECTORY", 238},
                                                     {"CACHE_DIRECTORY", 239},
                                                     {"LOGS_DIRECTORY", 240},
                                                     {"CONFIGURATION_DIRECTORY", 241},
                                                     {"NUMA_POLICY", 242},
                                                     {"CREDENTIALS", 243},
                                                     {"BPF", 244},
                                                     {"EXCEPTION", 255}});

void sort_unique(std::vector<int>& values) {
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace

Result<ExitStatusSet> parse_exit_status_set(std::string_view text) {
    // As systemd's config_parse_set_status, except that one bad word fails the whole value (systemd drops
    // just that word): names first, then numbers (always exit codes), then signal names.
    ExitStatusSet set;
    size_t pos = 0;
    while ((pos = skip_blanks(text, pos)) < text.size()) {
        size_t end = pos;
        while (end < text.size() && !is_blank(text[end])) {
            ++end;
        }
        std::string_view word = text.substr(pos, end - pos);
        pos = end;

        auto named = std::find_if(kExitStatusNames.begin(), kExitStatusNames.end(),
                                  [&](const auto& entry) { return entry.first == word; });
        if (named != kExitStatusNames.end()) {
            set.statuses.push_back(named->second);
            continue;
        }
        auto number = parse_c_number(word);
        if (number || number.error() != "expected a number") {
            if (!number || (number->negative && number->magnitude != 0) || number->magnitude > 255) {
                return Result<ExitStatusSet>::fail("exit status " + quoted(word) +
                                                   " out of range (must be between 0 and 255)");
            }
            set.statuses.push_back(static_cast<int>(number->magnitude));
            continue;
        }
        auto signo = parse_signal(word);
        if (!signo) {
            return Result<ExitStatusSet>::fail("unknown exit status or signal " + quoted(word) +
                                               " (use a number 0..255, a name such as TEMPFAIL, or a signal "
                                               "such as SIGKILL)");
        }
        set.signals.push_back(*signo);
    }
    sort_unique(set.statuses);
    sort_unique(set.signals);
    return Result<ExitStatusSet>::ok(set);
}

}  // namespace gitvisor::unitfile
