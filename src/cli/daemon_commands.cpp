// The commands that talk to gitvisord: list, status, start, stop, restart, history, cat.

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/client.h"
#include "cli/commands.h"
#include "common/exit_codes.h"
#include "unitfile/values.h"
#include "common/json.h"
#include "common/time_format.h"

namespace gitvisor::cli {
namespace {


std::string short_commit(const std::string& commit) { return commit.substr(0, 7); }

std::string bytes_text(int64_t bytes) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1);
    if (bytes >= (1 << 30)) s << static_cast<double>(bytes) / (1 << 30) << "G";
    else if (bytes >= (1 << 20)) s << static_cast<double>(bytes) / (1 << 20) << "M";
    else if (bytes >= (1 << 10)) s << static_cast<double>(bytes) / (1 << 10) << "K";
    else s << bytes << "B";
    return s.str();
}

void print_json(const JsonValue& value, std::ostream& out) { out << write_json(value, 2) << "\n"; }

// A request line: {"cmd": CMD, and the given members (already JSON values)}.
std::string request_line(const std::string& cmd, const std::vector<std::pair<std::string, std::string>>& members = {}) {
    std::string line = "{\"cmd\":" + json_quote(cmd);
    for (const auto& [key, value] : members) line += "," + json_quote(key) + ":" + value;
    return line + "}";
}

std::string string_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_quote(items[i]);
    return out + "]";
}

// Sends the request; on failure prints the error in the fixed shape and returns its exit code.
std::optional<JsonValue> request(const GlobalOptions& g, const std::string& req, const std::string& verb,
                                 const std::string& what, std::ostream& err, int& code) {
    Result<JsonValue> r = call(socket_path(g.socket), req);
    if (!r) {
        err << "gitvisor: error: cannot " << verb << " '" << what << "': " << r.error() << "\n";
        code = kExitFailure;
        return std::nullopt;
    }
    if (!flag(*r, "ok")) {
        err << "gitvisor: error: cannot " << verb << " '" << what << "': " << text(*r, "error") << "\n";
        code = static_cast<int>(number(*r, "code"));
        if (code == 0) code = kExitFailure;
        return std::nullopt;
    }
    return *r;
}

void print_unit_table(const JsonValue& units, std::ostream& out) {
    // A HEALTH column once some unit has a health check.
    bool any_health = false;
    for (const JsonValue& u : units.items()) any_health = any_health || (text(u, "health") != "none" && !text(u, "health").empty());
    out << std::left << std::setw(28) << "UNIT" << std::setw(14) << "STATE" << std::setw(14) << "SUB";
    if (any_health) out << std::setw(11) << "HEALTH";
    out << std::setw(10) << "MAIN PID" << std::setw(9) << "COMMIT" << "DESCRIPTION\n";
    for (const JsonValue& u : units.items()) {
        std::string state = text(u, "state");
        if (flag(u, "held_stopped")) state += "*";
        const int64_t pid = number(u, "main_pid");
        out << std::left << std::setw(28) << text(u, "name") << std::setw(14) << state << std::setw(14)
            << text(u, "sub_state");
        if (any_health) out << std::setw(11) << (text(u, "health") == "none" ? "-" : text(u, "health"));
        out << std::setw(10) << (pid ? std::to_string(pid) : "-") << std::setw(9)
            << short_commit(text(u, "commit")) << text(u, "description") << "\n";
    }
    out << units.size() << " unit(s)";
    for (const JsonValue& u : units.items())
        if (flag(u, "held_stopped")) {
            out << "; * held stopped by `gitvisor stop`";
            break;
        }
    out << "\n";
}

// "#12 1a2b3c4 applied    commit   2026-11-25T13:20:01Z (15 ms)  subject (author)", then its note, actions
// and errors, indented.
void print_deployment(const JsonValue& d, std::ostream& out) {
    out << "#" << number(d, "id") << " " << short_commit(text(d, "commit")) << " " << std::left << std::setw(10)
        << text(d, "result") << " " << std::setw(8) << text(d, "trigger") << " " << text(d, "started");
    if (number(d, "duration_ms") >= 0) out << " (" << number(d, "duration_ms") << " ms)";
    out << "  " << text(d, "subject");
    if (!text(d, "author").empty()) out << " (" << text(d, "author") << ")";
    out << "\n";
    if (!text(d, "note").empty()) out << "    " << text(d, "note") << "\n";
    for (const JsonValue& a : member(d, "actions").items()) {
        out << "    " << text(a, "action") << " " << text(a, "unit") << " (" << text(a, "reason") << ")";
        if (!text(a, "result").empty() && text(a, "result") != "done") out << ": " << text(a, "result");
        out << "\n";
    }
    for (const JsonValue& e : member(d, "errors").items()) {
        out << "    " << text(e, "file");
        if (number(e, "line") > 0) out << ":" << number(e, "line");
        out << ": error: " << text(e, "message") << "\n";
    }
}

// The exit code of a command that ran a deploy: 0 once applied.
int deployment_exit_code(const JsonValue& d) {
    return d.is_object() && text(d, "result") == "applied" ? kExitSuccess : kExitFailure;
}

void print_status(const JsonValue& u, std::ostream& out) {
    const std::string state = text(u, "state");
    const char* dot = state == "active" ? "●" : state == "failed" ? "×" : "○";
    out << dot << " " << text(u, "name");
    if (!text(u, "description").empty()) out << " - " << text(u, "description");
    out << "\n";
    out << "     Loaded: loaded (commit " << short_commit(text(u, "commit")) << ", spec "
        << text(u, "spec_hash").substr(0, 15) << ")\n";
    out << "     Active: " << state << " (" << text(u, "sub_state") << ")";
    if (state == "failed" || (state == "inactive" && text(u, "result") != "success"))
        out << ", result " << text(u, "result");
    const int64_t since = number(u, "since_usec");
    if (since > 0) out << " since " << format_human_time(since) << "; " << format_age(realtime_usec() - since) << " ago";
    out << "\n";
    if (flag(u, "held_stopped"))
        out << "       Held: stopped by `gitvisor stop` until `gitvisor start` or a deploy that changes it\n";
    if (!text(u, "invocation").empty()) out << " Invocation: " << text(u, "invocation") << "\n";
    if (!text(u, "status_text").empty()) out << "     Status: \"" << text(u, "status_text") << "\"\n";
    if (!text(u, "health").empty() && text(u, "health") != "none") {
        out << "     Health: " << text(u, "health");
        if (!text(u, "health_detail").empty()) out << " (last check: " << text(u, "health_detail") << ")";
        out << "\n";
    }
    if (number(u, "main_pid") > 0)
        out << "   Main PID: " << number(u, "main_pid") << " (pid " << number(u, "ns_pid") << " in its namespace)\n";
    if (number(u, "exec_pid") > 0) out << " Supervisor: gitvisor-exec, pid " << number(u, "exec_pid") << "\n";
    if (number(u, "restarts") > 0) out << "   Restarts: " << number(u, "restarts") << "\n";
    if (has_value(u, "tasks")) out << "      Tasks: " << number(u, "tasks") << "\n";
    if (has_value(u, "memory_bytes"))
        out << "     Memory: " << bytes_text(number(u, "memory_bytes")) << "\n";
    if (has_value(u, "cpu_usec")) {
        const int64_t us = number(u, "cpu_usec");
        out << "        CPU: " << (us >= 1'000'000 ? std::to_string(us / 1'000'000) + "." +
                                                          std::to_string(us / 100'000 % 10) + "s"
                                                    : std::to_string(us / 1000) + "ms")
            << "\n";
    }
    if (!text(u, "cgroup").empty()) out << "     CGroup: " << text(u, "cgroup") << "\n";
}

}  // namespace

// Commits that an automatic rollback took back, and how to deploy them anyway.
void print_quarantine(const JsonValue& r, std::ostream& out) {
    for (const JsonValue& q : member(r, "quarantined").items())
        out << "quarantined: " << short_commit(text(q, "commit")) << " (" << text(q, "reason")
            << "): not deployed again, even as the branch tip, until `gitvisor sync --force "
            << short_commit(text(q, "commit")) << "`\n";
}

int run_list(const GlobalOptions& g, const std::vector<std::string>&, std::ostream& out, std::ostream& err) {
    int code = kExitSuccess;
    auto r = request(g, request_line("list"), "list", "units", err, code);
    if (!r) return code;
    if (g.json) {
        print_json(member(*r, "units"), out);
    } else {
        print_unit_table(member(*r, "units"), out);
        print_quarantine(*r, out);
    }
    return kExitSuccess;
}

int run_status(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.size() > 1) {
        err << "gitvisor: error: status takes at most one unit\n";
        return kExitUsage;
    }
    std::vector<std::pair<std::string, std::string>> members;
    if (!args.empty()) members.emplace_back("unit", json_quote(args[0]));
    int code = kExitSuccess;
    auto r = request(g, request_line("status", members), "show status of", args.empty() ? "gitvisord" : args[0], err, code);
    if (!r) return code;
    if (args.empty()) {
        if (g.json) {
            print_json(*r, out);
            return kExitSuccess;
        }
        out << "gitvisord: " << text(*r, "isolation") << "\n";
        if (!text(*r, "remote").empty()) {
            out << "remote: " << text(*r, "remote") << ", last fetch " << text(*r, "last_fetch");
            if (!text(*r, "remote_error").empty()) out << ", failing: " << text(*r, "remote_error");
            out << "\n";
        }
        if (!text(*r, "pinned_commit").empty())
            out << "pinned to " << short_commit(text(*r, "pinned_commit")) << " (gitvisor rollback --unpin ends it)\n";
        out << "applied commit: " << (text(*r, "applied_commit").empty() ? "none" : text(*r, "applied_commit")) << "\n";
        print_quarantine(*r, out);
        out << "\n";
        print_unit_table(member(*r, "units"), out);
        return kExitSuccess;
    }
    const JsonValue& unit = member(*r, "unit");
    const JsonValue& log = member(*r, "log");  // only for root and the gitvisor group
    if (g.json) {
        JsonValue shown = unit;
        if (log.is_array()) shown.add_member("log", log);
        print_json(shown, out);
    } else {
        print_status(unit, out);
        if (log.size() > 0) {
            out << "\n";
            for (const JsonValue& line : log.items()) print_log_line(line, true, out);
        }
    }
    const std::string state = text(unit, "state");
    return state == "active" || state == "reloading" ? kExitSuccess : kExitNotActive;
}

int run_change(const std::string& verb, const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out,
               std::ostream& err) {
    // UNIT... or --all; the daemon propagates along dependencies and says which other units it moved.
    const bool all = std::find(args.begin(), args.end(), "--all") != args.end();
    std::vector<std::string> units;
    for (const std::string& a : args)
        if (a != "--all") units.push_back(a);
    if (units.empty() && !all) {
        err << "gitvisor: error: " << verb << " needs at least one unit, or --all\n";
        return kExitUsage;
    }
    if (all && !units.empty()) {
        err << "gitvisor: error: " << verb << " takes units or --all, not both\n";
        return kExitUsage;
    }
    int code = kExitSuccess;
    std::string what = all ? "all units" : "";
    for (size_t i = 0; i < units.size(); ++i) what += (i ? " " : "") + units[i];
    std::vector<std::pair<std::string, std::string>> members;
    if (all) {
        members.emplace_back("all", "true");
    } else {
        members.emplace_back("units", string_list(units));
    }
    auto r = request(g, request_line(verb, members), verb, what, err, code);
    if (!r) return code;
    if (g.json) {
        print_json(*r, out);
        return kExitSuccess;
    }
    for (const char* key : {"also_started", "also_stopped"}) {
        const JsonValue& list = member(*r, key);
        if (list.items().empty()) continue;
        out << (std::string(key) == "also_started" ? "also started:" : "also stopped:");
        for (const JsonValue& n : list.items()) out << " " << n.as_string();
        out << "\n";
    }
    return kExitSuccess;
}

int run_history(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    int64_t n = 20;
    for (size_t i = 0; i < args.size(); ++i) {
        if ((args[i] == "-n" || args[i] == "--lines") && i + 1 < args.size()) {
            n = std::atoll(args[++i].c_str());
        } else {
            err << "gitvisor: error: unknown argument '" << args[i] << "' (usage: gitvisor history [-n N])\n";
            return kExitUsage;
        }
    }
    int code = kExitSuccess;
    auto r = request(g, request_line("history", {{"n", std::to_string(n)}}), "show", "history", err, code);
    if (!r) return code;
    const JsonValue& list = member(*r, "deployments");
    if (g.json) {
        print_json(list, out);
        return kExitSuccess;
    }
    for (const JsonValue& d : list.items()) print_deployment(d, out);
    return kExitSuccess;
}

int run_cat(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.size() != 1) {
        err << "gitvisor: error: cat takes one unit\n";
        return kExitUsage;
    }
    int code = kExitSuccess;
    auto r = request(g, request_line("cat", {{"unit", json_quote(args[0])}}), "show", args[0], err, code);
    if (!r) return code;
    if (g.json) {
        print_json(*r, out);
    } else {
        out << text(*r, "text");
    }
    return kExitSuccess;
}

}  // namespace gitvisor::cli

namespace gitvisor::cli {

int run_diff(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.size() > 1 || (!args.empty() && args[0].starts_with("-"))) {
        err << "gitvisor: error: usage: gitvisor diff [REV]\n";
        return kExitUsage;
    }
    std::vector<std::pair<std::string, std::string>> members;
    if (!args.empty()) members.emplace_back("revision", json_quote(args[0]));
    int code = kExitSuccess;
    auto r = request(g, request_line("diff", members), "diff", args.empty() ? "the branch tip" : args[0], err, code);
    if (!r) return code;
    const bool valid = flag(*r, "valid");
    if (g.json) {
        print_json(*r, out);
        return valid ? kExitSuccess : kExitFailure;
    }
    const std::string applied = text(*r, "applied_commit");
    out << "deploying " << short_commit(text(*r, "commit")) << " (" << text(*r, "subject") << ") over "
        << (applied.empty() ? "nothing deployed" : short_commit(applied)) << ":\n";
    if (!valid) {
        for (const JsonValue& e : member(*r, "errors").items()) {
            out << "  " << text(e, "file");
            if (number(e, "line") > 0) out << ":" << number(e, "line");
            out << ": error: " << text(e, "message") << "\n";
        }
        out << "would be rejected: nothing would change\n";
        return kExitFailure;
    }
    const JsonValue& actions = member(*r, "actions");
    for (const JsonValue& a : actions.items())
        out << "  " << std::left << std::setw(8) << text(a, "action") << text(a, "unit") << " (" << text(a, "reason")
            << ")\n";
    if (actions.size() == 0) {
        out << "  nothing to do\n";
    } else {
        out << actions.size() << " action(s): stops in " << member(*r, "stop_waves").size() << " wave(s), then starts in "
            << member(*r, "start_waves").size() << " wave(s)\n";
    }
    return kExitSuccess;
}

}  // namespace gitvisor::cli

namespace gitvisor::cli {

int run_sync(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    // sync [--force [REV]]: --force lifts the quarantine of REV (default: the branch tip) first.
    const bool force = !args.empty() && args[0] == "--force";
    if ((!args.empty() && !force) || args.size() > 2 || (args.size() == 2 && args[1].starts_with("-"))) {
        err << "gitvisor: error: usage: gitvisor sync [--force [REV]]\n";
        return kExitUsage;
    }
    std::vector<std::pair<std::string, std::string>> members;
    if (force) members.emplace_back("force", "true");
    if (args.size() == 2) members.emplace_back("revision", json_quote(args[1]));
    int code = kExitSuccess;
    auto r = request(g, request_line("sync", members), "sync", "the branch", err, code);
    if (!r) return code;
    const JsonValue& d = member(*r, "deployment");
    if (g.json) {
        print_json(*r, out);
    } else if (d.is_object()) {
        print_deployment(d, out);
    } else {
        out << "nothing deployed yet (" << short_commit(text(*r, "commit")) << ")\n";
    }
    return d.is_object() ? deployment_exit_code(d) : kExitSuccess;
}

int run_rollback(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    const bool unpin = args.size() == 1 && args[0] == "--unpin";
    if (args.size() != 1 || (args[0].starts_with("-") && !unpin)) {
        err << "gitvisor: error: usage: gitvisor rollback REV (a commit hash or prefix, a tag, HEAD~2...) | "
               "gitvisor rollback --unpin\n";
        return kExitUsage;
    }
    int code = kExitSuccess;
    const std::string req = unpin ? request_line("rollback", {{"unpin", "true"}})
                                  : request_line("rollback", {{"revision", json_quote(args[0])}});
    auto r = request(g, req, unpin ? "unpin" : "roll back to", unpin ? "the desired state" : args[0], err, code);
    if (!r) return code;
    const JsonValue& d = member(*r, "deployment");
    if (g.json) {
        print_json(*r, out);
    } else if (member(*r, "pinned").is_bool()) {
        // Remote mode: a pin, or its end.
        out << text(*r, "message") << "\n";
        if (d.is_object()) print_deployment(d, out);
    } else {
        out << "rolled back to " << short_commit(text(*r, "target")) << " (" << text(*r, "target_subject")
            << ") with commit " << short_commit(text(*r, "commit")) << "\n";
        if (d.is_object()) print_deployment(d, out);
    }
    return deployment_exit_code(d);
}

}  // namespace gitvisor::cli

namespace gitvisor::cli {

int run_reload(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream&, std::ostream& err) {
    if (args.empty()) {
        err << "gitvisor: error: reload needs at least one unit\n";
        return kExitUsage;
    }
    int code = kExitSuccess;
    std::string what;
    for (size_t i = 0; i < args.size(); ++i) what += (i ? " " : "") + args[i];
    return request(g, request_line("reload", {{"units", string_list(args)}}), "reload", what, err, code) ? kExitSuccess
                                                                                                          : code;
}

int run_kill(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream&, std::ostream& err) {
    constexpr const char* kUsage = "usage: gitvisor kill UNIT... [-s SIGNAL] [--kill-whom main|all]";
    std::vector<std::string> units;
    int signal = 15;
    std::string whom = "all";
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if ((a == "-s" || a == "--signal") && i + 1 < args.size()) {
            const Result<int> parsed = unitfile::parse_signal(args[++i]);
            if (!parsed) {
                err << "gitvisor: error: " << parsed.error() << "\n" << kUsage << "\n";
                return kExitUsage;
            }
            signal = *parsed;
        } else if (a == "--kill-whom" && i + 1 < args.size()) {
            whom = args[++i];
        } else if (a.starts_with("--kill-whom=")) {
            whom = a.substr(12);
        } else if (a.starts_with("-")) {
            err << "gitvisor: error: unknown or incomplete option '" << a << "'\n" << kUsage << "\n";
            return kExitUsage;
        } else {
            units.push_back(a);
        }
    }
    if (units.empty() || (whom != "main" && whom != "all")) {
        err << "gitvisor: error: " << kUsage << "\n";
        return kExitUsage;
    }
    int code = kExitSuccess;
    std::string what;
    for (size_t i = 0; i < units.size(); ++i) what += (i ? " " : "") + units[i];
    const std::string req = request_line(
        "kill", {{"units", string_list(units)}, {"signal", std::to_string(signal)}, {"whom", json_quote(whom)}});
    return request(g, req, "kill", what, err, code) ? kExitSuccess : code;
}

}  // namespace gitvisor::cli

namespace gitvisor::cli {

int run_reset_failed(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
    int code = kExitSuccess;
    std::string what;
    for (size_t i = 0; i < args.size(); ++i) what += (i ? " " : "") + args[i];
    auto r = request(g, request_line("reset-failed", {{"units", string_list(args)}}), "reset", what.empty() ? "failed units" : what,
                     err, code);
    if (!r) return code;
    if (g.json) {
        print_json(*r, out);
    } else {
        for (const JsonValue& name : member(*r, "reset").items()) out << name.as_string() << ": failed -> inactive\n";
    }
    return kExitSuccess;
}

}  // namespace gitvisor::cli

namespace gitvisor::cli {

int run_why(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.size() != 1) {
        err << "gitvisor: error: usage: gitvisor why UNIT\n";
        return kExitUsage;
    }
    int code = kExitSuccess;
    auto r = request(g, request_line("why", {{"unit", json_quote(args[0])}}), "explain", args[0], err, code);
    if (!r) return code;
    if (g.json) {
        print_json(*r, out);
        return kExitSuccess;
    }
    out << text(*r, "unit") << (flag(*r, "running") ? " runs:" : " does not run:") << "\n";
    for (const JsonValue& reason : member(*r, "reasons").items()) out << "  - " << reason.as_string() << "\n";
    const JsonValue& log = member(*r, "log");
    if (log.size() > 0) {
        out << "last lines of its log:\n";
        for (const JsonValue& line : log.items()) print_log_line(line, true, out);
    }
    return kExitSuccess;
}

namespace {

// "● web.service (active, healthy)", then its dependencies below it, systemctl list-dependencies style.
void print_tree_node(const JsonValue& node, const std::string& prefix, const std::string& edge, bool last, bool root,
                     std::ostream& out) {
    const std::string state = text(node, "state");
    const char* dot = state == "active" ? "●" : state == "failed" ? "×" : "○";
    out << prefix;
    if (!root) out << (last ? "└─" : "├─") << edge << " ";
    out << dot << " " << text(node, "name") << " (" << state;
    if (!text(node, "health").empty() && text(node, "health") != "none") out << ", " << text(node, "health");
    out << ")";
    if (flag(node, "repeated") && !member(node, "dependencies").items().empty()) out << " …";
    out << "\n";
    const auto& deps = member(node, "dependencies").items();
    const std::string below = root ? prefix : prefix + (last ? "  " : "│ ");
    for (size_t i = 0; i < deps.size(); ++i)
        print_tree_node(member(deps[i], "unit"), below, text(deps[i], "kind"), i + 1 == deps.size(), false, out);
}

}  // namespace

int run_tree(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.size() > 1) {
        err << "gitvisor: error: usage: gitvisor tree [UNIT]\n";
        return kExitUsage;
    }
    std::vector<std::pair<std::string, std::string>> members;
    if (!args.empty()) members.emplace_back("unit", json_quote(args[0]));
    int code = kExitSuccess;
    auto r = request(g, request_line("tree", members), "show the tree of", args.empty() ? "units" : args[0], err, code);
    if (!r) return code;
    if (g.json) {
        print_json(member(*r, "tree"), out);
        return kExitSuccess;
    }
    for (const JsonValue& root : member(*r, "tree").items()) print_tree_node(root, "", "", true, true, out);
    return kExitSuccess;
}

}  // namespace gitvisor::cli
