#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "unitfile/values.h"
#include "values_test_support.h"

using namespace gitvisor::unitfile;
using namespace gitvisor::unitfile::testing;

namespace {

int signal(std::string_view text) { return accepted(parse_signal(text), text); }
std::string signal_error(std::string_view text) { return rejected(parse_signal(text), text); }

ExitStatusSet exit_set(std::string_view text) { return accepted(parse_exit_status_set(text), text); }

}  // namespace

// ---- Signals (§7) ------------------------------------------------------------------------------------

TEST_CASE("signals from SYSTEMD-SYNTAX.md section 7", "[values]") {
    CHECK(signal("TERM") == SIGTERM);
    CHECK(signal("SIGTERM") == SIGTERM);
    CHECK(signal("9") == SIGKILL);
    CHECK(signal("SIGKILL") == SIGKILL);
    CHECK(signal("SIGABRT") == SIGABRT);  // WatchdogSignal= default
    CHECK(signal("SIGRTMIN+1") == SIGRTMIN + 1);
}

TEST_CASE("every standard signal name, with and without SIG", "[values]") {
    struct Case {
        const char* name;
        int signo;
    };
    const std::vector<Case> cases = {
        {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"ILL", SIGILL},   {"TRAP", SIGTRAP},
        {"ABRT", SIGABRT},     {"BUS", SIGBUS},   {"FPE", SIGFPE},     {"KILL", SIGKILL}, {"USR1", SIGUSR1},
        {"SEGV", SIGSEGV},     {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
        {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
        {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU}, {"URG", SIGURG},     {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
        {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"PWR", SIGPWR},
        {"SYS", SIGSYS}};
    for (const Case& c : cases) {
        const std::string name = c.name;
        CHECK(signal(name) == c.signo);
        CHECK(signal("SIG" + name) == c.signo);
        CHECK(signal_name(c.signo) == "SIG" + name);
    }
}

TEST_CASE("real-time signals are counted from SIGRTMIN or SIGRTMAX at run time", "[values]") {
    const int span = SIGRTMAX - SIGRTMIN;
    CHECK(signal("SIGRTMIN") == SIGRTMIN);
    CHECK(signal("RTMIN") == SIGRTMIN);
    CHECK(signal("RTMIN+0") == SIGRTMIN);
    CHECK(signal("RTMIN+1") == SIGRTMIN + 1);
    CHECK(signal("SIGRTMIN+" + std::to_string(span)) == SIGRTMAX);
    CHECK(signal("SIGRTMAX") == SIGRTMAX);
    CHECK(signal("RTMAX") == SIGRTMAX);
    CHECK(signal("SIGRTMAX-2") == SIGRTMAX - 2);
    CHECK(signal("RTMAX-0") == SIGRTMAX);
    CHECK(signal("SIGRTMAX-" + std::to_string(span)) == SIGRTMIN);
    const std::string range = "(use SIGRTMIN+0 to SIGRTMIN+" + std::to_string(span) + ", or SIGRTMAX-" +
                              std::to_string(span) + " to SIGRTMAX-0)";
    CHECK(signal_error("SIGRTMIN+" + std::to_string(span + 1)) == "real-time signal out of range " + range);
    CHECK(signal_error("SIGRTMAX-" + std::to_string(span + 1)) == "real-time signal out of range " + range);
    CHECK(signal_error("RTMIN-1") == "invalid real-time signal 'RTMIN-1' " + range);
    CHECK(signal_error("RTMAX+1") == "invalid real-time signal 'RTMAX+1' " + range);
    CHECK(signal_error("RTMIN+-1") == "invalid real-time signal 'RTMIN+-1' " + range);
    CHECK(signal_error("RTMIN+ 1") == "invalid real-time signal 'RTMIN+ 1' " + range);
    CHECK(signal_error("SIGRTMIN+") == "invalid real-time signal 'SIGRTMIN+' " + range);
    CHECK(signal_error("SIGRTMINX") == "invalid real-time signal 'SIGRTMINX' " + range);
}

TEST_CASE("signal numbers are 1 to 64", "[values]") {
    for (int signo = 1; signo <= 64; ++signo) {
        CHECK(signal(std::to_string(signo)) == signo);
    }
    CHECK(signal("+9") == 9);
    CHECK(signal("011") == 9);  // read like a C integer, as in systemd
    CHECK(signal("0x9") == 9);
    CHECK(signal_error("0") == "signal number must be between 1 and 64");
    CHECK(signal_error("65") == "signal number must be between 1 and 64");
    CHECK(signal_error("-9") == "signal number must be between 1 and 64");
    CHECK(signal_error("99999999999999999999") == "signal number must be between 1 and 64");
}

TEST_CASE("unknown signals", "[values]") {
    const std::string usage = " (use a name such as SIGTERM or TERM, SIGRTMIN+N, or a number 1..64)";
    CHECK(signal_error("SIGFOO") == "unknown signal 'SIGFOO'" + usage);
    CHECK(signal_error("SIG9") == "unknown signal 'SIG9'" + usage);
    CHECK(signal_error("SIGTERM ") == "unknown signal 'SIGTERM '" + usage);
    CHECK(signal_error("term") == "unknown signal 'term' (signal names are case-sensitive: write 'SIGTERM')");
    CHECK(signal_error("sigkill") ==
          "unknown signal 'sigkill' (signal names are case-sensitive: write 'SIGKILL')");
    CHECK(signal_error("SigHup") ==
          "unknown signal 'SigHup' (signal names are case-sensitive: write 'SIGHUP')");
    CHECK(signal_error("sigrtmin+1") ==
          "unknown signal 'sigrtmin+1' (signal names are case-sensitive: write 'SIGRTMIN+1')");
    // systemd 252 takes none of the aliases.
    CHECK(signal_error("SIGIOT") == "unknown signal 'SIGIOT' (write 'SIGABRT')");
    CHECK(signal_error("POLL") == "unknown signal 'POLL' (write 'SIGIO')");
    CHECK(signal_error("SIGCLD") == "unknown signal 'SIGCLD' (write 'SIGCHLD')");
    CHECK(signal_error("") == "empty value (write a signal such as SIGTERM)");
}

TEST_CASE("signal_name", "[values]") {
    CHECK(signal_name(SIGTERM) == "SIGTERM");
    CHECK(signal_name(SIGKILL) == "SIGKILL");
    CHECK(signal_name(SIGRTMIN) == "SIGRTMIN+0");
    CHECK(signal_name(SIGRTMIN + 1) == "SIGRTMIN+1");
    CHECK(signal_name(SIGRTMAX) == "SIGRTMIN+" + std::to_string(SIGRTMAX - SIGRTMIN));
    CHECK(signal_name(0) == "0");
    CHECK(signal_name(-3) == "-3");
    CHECK(signal_name(200) == "200");
    for (int signo = 1; signo <= 64; ++signo) {
        CHECK(accepted(parse_signal(signal_name(signo)), signal_name(signo)) == signo);
    }
}

// ---- Exit statuses (§6) ------------------------------------------------------------------------------

TEST_CASE("exit status sets mix codes, names and signals", "[values]") {
    CHECK(exit_set("TEMPFAIL 250 SIGKILL") == ExitStatusSet{{75, 250}, {SIGKILL}});
    CHECK(exit_set("1 2 8 SIGHUP") == ExitStatusSet{{1, 2, 8}, {SIGHUP}});
    CHECK(exit_set("143") == ExitStatusSet{{143}, {}});
    CHECK(exit_set("SIGTERM SIGINT") == ExitStatusSet{{}, {SIGINT, SIGTERM}});
    CHECK(exit_set("KILL") == ExitStatusSet{{}, {SIGKILL}});
    CHECK(exit_set("SIGRTMIN+3") == ExitStatusSet{{}, {SIGRTMIN + 3}});
    CHECK(exit_set("0 255") == ExitStatusSet{{0, 255}, {}});
    CHECK(exit_set("  3\t1  3 KILL 9 SIGKILL ") == ExitStatusSet{{1, 3, 9}, {SIGKILL}});
    CHECK(exit_set("") == ExitStatusSet{});
    CHECK(exit_set("   ") == ExitStatusSet{});
}

TEST_CASE("a number in an exit status set is always an exit code", "[values]") {
    CHECK(exit_set("9") == ExitStatusSet{{9}, {}});
    CHECK(exit_set("15 SIGTERM") == ExitStatusSet{{15}, {SIGTERM}});
    CHECK(exit_set("+5") == ExitStatusSet{{5}, {}});
    CHECK(exit_set("0x10 010") == ExitStatusSet{{8, 16}, {}});  // C integers, as in systemd
    for (std::string_view text : {"256", "-1", "1000", "99999999999999999999"}) {
        CHECK(rejected(parse_exit_status_set(text), text) ==
              "exit status '" + std::string(text) + "' out of range (must be between 0 and 255)");
    }
}

TEST_CASE("exit status names are systemd's", "[values]") {
    CHECK(exit_set("SUCCESS FAILURE INVALIDARGUMENT NOTIMPLEMENTED NOPERMISSION NOTINSTALLED NOTCONFIGURED "
                   "NOTRUNNING") == ExitStatusSet{{0, 1, 2, 3, 4, 5, 6, 7}, {}});
    CHECK(exit_set("USAGE DATAERR NOINPUT NOUSER NOHOST UNAVAILABLE SOFTWARE OSERR OSFILE CANTCREAT IOERR "
                   "TEMPFAIL PROTOCOL NOPERM CONFIG") ==
          ExitStatusSet{{64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78}, {}});
    CHECK(exit_set("CHDIR NICE FDS EXEC MEMORY LIMITS OOM_ADJUST SIGNAL_MASK STDIN STDOUT CHROOT IOPRIO "
                   "TIMERSLACK SECUREBITS SETSCHEDULER CPUAFFINITY GROUP USER CAPABILITIES CGROUP SETSID "
                   "CONFIRM STDERR") ==
          ExitStatusSet{{200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211,
                         212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222},
                        {}});
    CHECK(exit_set("PAM NETWORK NAMESPACE NO_NEW_PRIVILEGES SECCOMP SELINUX_CONTEXT PERSONALITY APPARMOR "
                   "ADDRESS_FAMILIES RUNTIME_DIRECTORY CHOWN SMACK_PROCESS_LABEL KEYRING STATE_DIRECTORY "
                   "CACHE_DIRECTORY LOGS_DIRECTORY CONFIGURATION_DIRECTORY NUMA_POLICY CREDENTIALS BPF "
                   "EXCEPTION") == ExitStatusSet{{224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 235,
                                                  236, 237, 238, 239, 240, 241, 242, 243, 244, 255},
                                                 {}});
}

TEST_CASE("unknown words in an exit status set", "[values]") {
    const std::string usage = " (use a number 0..255, a name such as TEMPFAIL, or a signal such as SIGKILL)";
    CHECK(rejected(parse_exit_status_set("SIGFOO 5"), "SIGFOO 5") ==
          "unknown exit status or signal 'SIGFOO'" + usage);
    CHECK(rejected(parse_exit_status_set("tempfail"), "tempfail") ==
          "unknown exit status or signal 'tempfail'" + usage);
    CHECK(rejected(parse_exit_status_set("0,1"), "0,1") == "unknown exit status or signal '0,1'" + usage);
}
