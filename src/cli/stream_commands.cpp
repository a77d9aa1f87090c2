// The commands answered by a stream of lines: `logs` and `events` (DESIGN §5, §7).

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/time_spec.h"
#include "common/exit_codes.h"
#include "common/json.h"
#include "common/time_format.h"

namespace gitvisor::cli {
namespace {

// Ctrl-C ends a follow cleanly: what was printed is flushed line by line, so nothing is lost by leaving.
void end_on_interrupt() {
    struct sigaction action {};
    action.sa_handler = [](int) { _exit(kExitSuccess); };
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    signal(SIGPIPE, SIG_DFL);  // `gitvisor logs -f | head` ends with head
}

bool read_count(const std::string& text, int64_t& out) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 12) return false;
    out = std::atoll(text.c_str());
    return true;
}

// Prints each line of a stream; returns the exit code. Errors arrive as {"ok":false,...} lines.
int run_stream(const GlobalOptions& g, const std::string& request, const std::string& what, bool follow,
               const std::function<void(const JsonValue&)>& print, std::ostream& out, std::ostream& err) {
    int code = kExitSuccess;
    Result<bool> r = stream(socket_path(g.socket), request, [&](const JsonValue& line) {
        if (line.find("ok") != nullptr && !flag(line, "ok")) {
            err << "gitvisor: error: cannot show " << what << ": " << text(line, "error") << "\n";
            code = static_cast<int>(number(line, "code"));
            if (code == 0) code = kExitFailure;
            return false;
        }
        if (flag(line, "end")) {
            if (follow && text(line, "reason") != "done") err << "gitvisor: " << what << ": " << text(line, "reason") << "\n";
            return false;
        }
        if (g.json) {
            out << write_json(line) << "\n";
        } else {
            print(line);
        }
        if (follow) out.flush();
        return true;
    });
    out.flush();
    if (!r) {
        err << "gitvisor: error: cannot show " << what << ": " << r.error() << "\n";
        return kExitFailure;
    }
    return code;
}

}  // namespace

int run_logs(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    constexpr const char* kUsage =
        "usage: gitvisor logs [UNIT...] [-n N] [-f] [--since TIME] [--until TIME] [--invocation ID|-1] [--json]";
    std::vector<std::string> units;
    std::string members;
    int64_t n = -1;
    bool follow = false;
    const int64_t now = realtime_usec();
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool has_value = i + 1 < args.size();
        if ((a == "-n" || a == "--lines") && has_value) {
            if (!read_count(args[++i], n)) {
                err << "gitvisor: error: -n needs a number of lines, not '" << args[i] << "'\n" << kUsage << "\n";
                return kExitUsage;
            }
        } else if (a == "-f" || a == "--follow") {
            follow = true;
        } else if ((a == "--since" || a == "-S" || a == "--until" || a == "-U") && has_value) {
            const Result<int64_t> t = parse_time_spec(args[++i], now);
            if (!t) {
                err << "gitvisor: error: " << t.error() << "\n";
                return kExitUsage;
            }
            members += std::string(",\"") + (a == "--since" || a == "-S" ? "since_usec" : "until_usec") +
                       "\":" + std::to_string(*t);
        } else if (a == "--invocation" && has_value) {
            members += ",\"invocation\":" + json_quote(args[++i]);
        } else if (!a.empty() && a[0] == '-') {
            err << "gitvisor: error: unknown or incomplete option '" << a << "'\n" << kUsage << "\n";
            return kExitUsage;
        } else {
            units.push_back(a);
        }
    }
    // As journalctl: -f alone shows the last 10 lines first; without -f every line.
    if (n < 0) n = follow ? 10 : 0;
    std::string list;
    for (size_t i = 0; i < units.size(); ++i) list += (i ? "," : "") + json_quote(units[i]);
    const std::string request = "{\"cmd\":\"logs\",\"units\":[" + list + "],\"n\":" + std::to_string(n) +
                                ",\"follow\":" + (follow ? "true" : "false") + members + "}";
    if (follow) end_on_interrupt();
    return run_stream(g, request, units.size() == 1 ? "the log of '" + units[0] + "'" : "logs", follow,
                      [&](const JsonValue& line) { print_log_line(line, true, out); }, out, err);
}

int run_events(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    int64_t n = -1;
    bool follow = false;
    for (size_t i = 0; i < args.size(); ++i) {
        if ((args[i] == "-n" || args[i] == "--lines") && i + 1 < args.size()) {
            if (!read_count(args[++i], n)) {
                err << "gitvisor: error: -n needs a number of events, not '" << args[i] << "'\n";
                return kExitUsage;
            }
        } else if (args[i] == "-f" || args[i] == "--follow") {
            follow = true;
        } else {
            err << "gitvisor: error: unknown argument '" << args[i] << "' (usage: gitvisor events [-n N] [-f] [--json])\n";
            return kExitUsage;
        }
    }
    if (n < 0) n = follow ? 10 : 0;
    const std::string request = "{\"cmd\":\"events\",\"n\":" + std::to_string(n) + ",\"follow\":" +
                                (follow ? "true" : "false") + "}";
    if (follow) end_on_interrupt();
    return run_stream(g, request, "events", follow, [&](const JsonValue& e) {
        out << text(e, "time") << " " << text(e, "kind");
        if (!text(e, "unit").empty()) out << " " << text(e, "unit");
        out << ": " << text(e, "message");
        if (text(e, "kind") == "request") out << " (uid " << number(e, "uid") << ")";
        out << "\n";
    }, out, err);
}

void print_log_line(const JsonValue& line, bool with_unit, std::ostream& out) {
    if (text(line, "stream") == "marker") {
        out << text(line, "time") << " " << text(line, "unit") << ": " << text(line, "message") << "\n";
        return;
    }
    out << text(line, "time");
    if (with_unit) out << " " << text(line, "unit");
    if (text(line, "stream") != "stdout") out << "[" << text(line, "stream") << "]";
    out << ": " << text(line, "message") << "\n";
}

}  // namespace gitvisor::cli
