// The commands that talk to gitvisord: list, status, start, stop, restart, history, cat.

#include <Poco/JSON/Array.h>

#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/client.h"
#include "cli/commands.h"
#include "common/exit_codes.h"
#include "common/time_format.h"

namespace gitvisor::cli {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::string text(const Object::Ptr& o, const std::string& key) {
    if (!o->has(key) || o->isNull(key)) return "";
    return o->get(key).toString();
}

int64_t number(const Object::Ptr& o, const std::string& key) {
    if (!o->has(key) || o->isNull(key)) return 0;
    return o->getValue<int64_t>(key);
}

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

void print_json(const Poco::Dynamic::Var& value, std::ostream& out) {
    Poco::JSON::Stringifier::stringify(value, out, 2);
    out << "\n";
}

// Sends the request; on failure prints the error in the fixed shape and returns its exit code.
std::optional<Object::Ptr> request(const GlobalOptions& g, Object::Ptr req, const std::string& verb,
                                   const std::string& what, std::ostream& err, int& code) {
    Result<Object::Ptr> r = call(socket_path(g.socket), req);
    if (!r) {
        err << "gitvisor: error: cannot " << verb << " '" << what << "': " << r.error() << "\n";
        code = kExitFailure;
        return std::nullopt;
    }
    if (!(*r)->getValue<bool>("ok")) {
        err << "gitvisor: error: cannot " << verb << " '" << what << "': " << text(*r, "error") << "\n";
        code = static_cast<int>(number(*r, "code"));
        if (code == 0) code = kExitFailure;
        return std::nullopt;
    }
    return *r;
}

void print_unit_table(const Array::Ptr& units, std::ostream& out) {
    out << std::left << std::setw(28) << "UNIT" << std::setw(14) << "STATE" << std::setw(14) << "SUB" << std::setw(10)
        << "MAIN PID" << std::setw(9) << "COMMIT" << "DESCRIPTION\n";
    for (size_t i = 0; i < units->size(); ++i) {
        const Object::Ptr u = units->getObject(i);
        std::string state = text(u, "state");
        if (u->optValue<bool>("held_stopped", false)) state += "*";
        const int64_t pid = number(u, "main_pid");
        out << std::left << std::setw(28) << text(u, "name") << std::setw(14) << state << std::setw(14)
            << text(u, "sub_state") << std::setw(10) << (pid ? std::to_string(pid) : "-") << std::setw(9)
            << short_commit(text(u, "commit")) << text(u, "description") << "\n";
    }
    out << units->size() << " unit(s)";
    for (size_t i = 0; i < units->size(); ++i)
        if (units->getObject(i)->optValue<bool>("held_stopped", false)) {
            out << "; * held stopped by `gitvisor stop`";
            break;
        }
    out << "\n";
}

void print_status(const Object::Ptr& u, std::ostream& out) {
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
    if (u->optValue<bool>("held_stopped", false))
        out << "       Held: stopped by `gitvisor stop` until `gitvisor start` or a deploy that changes it\n";
    if (!text(u, "invocation").empty()) out << " Invocation: " << text(u, "invocation") << "\n";
    if (number(u, "main_pid") > 0)
        out << "   Main PID: " << number(u, "main_pid") << " (pid " << number(u, "ns_pid") << " in its namespace)\n";
    if (number(u, "exec_pid") > 0) out << " Supervisor: gitvisor-exec, pid " << number(u, "exec_pid") << "\n";
    if (number(u, "restarts") > 0) out << "   Restarts: " << number(u, "restarts") << "\n";
    if (u->has("tasks") && !u->isNull("tasks")) out << "      Tasks: " << number(u, "tasks") << "\n";
    if (u->has("memory_bytes") && !u->isNull("memory_bytes"))
        out << "     Memory: " << bytes_text(number(u, "memory_bytes")) << "\n";
    if (u->has("cpu_usec") && !u->isNull("cpu_usec")) {
        const int64_t us = number(u, "cpu_usec");
        out << "        CPU: " << (us >= 1'000'000 ? std::to_string(us / 1'000'000) + "." +
                                                          std::to_string(us / 100'000 % 10) + "s"
                                                    : std::to_string(us / 1000) + "ms")
            << "\n";
    }
    if (!text(u, "cgroup").empty()) out << "     CGroup: " << text(u, "cgroup") << "\n";
}

}  // namespace

int run_list(const GlobalOptions& g, const std::vector<std::string>&, std::ostream& out, std::ostream& err) {
    Object::Ptr req = new Object;
    req->set("cmd", "list");
    int code = kExitSuccess;
    auto r = request(g, req, "list", "units", err, code);
    if (!r) return code;
    if (g.json) {
        print_json((*r)->get("units"), out);
    } else {
        print_unit_table((*r)->getArray("units"), out);
    }
    return kExitSuccess;
}

int run_status(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.size() > 1) {
        err << "gitvisor: error: status takes at most one unit\n";
        return kExitUsage;
    }
    Object::Ptr req = new Object;
    req->set("cmd", "status");
    if (!args.empty()) req->set("unit", args[0]);
    int code = kExitSuccess;
    auto r = request(g, req, "show status of", args.empty() ? "gitvisord" : args[0], err, code);
    if (!r) return code;
    if (args.empty()) {
        if (g.json) {
            print_json(*r, out);
            return kExitSuccess;
        }
        out << "gitvisord: " << text(*r, "isolation") << "\n";
        out << "applied commit: " << (text(*r, "applied_commit").empty() ? "none" : text(*r, "applied_commit")) << "\n\n";
        print_unit_table((*r)->getArray("units"), out);
        return kExitSuccess;
    }
    const Object::Ptr unit = (*r)->getObject("unit");
    if (g.json) {
        print_json(unit, out);
    } else {
        print_status(unit, out);
    }
    const std::string state = text(unit, "state");
    return state == "active" || state == "reloading" ? kExitSuccess : kExitNotActive;
}

int run_change(const std::string& verb, const GlobalOptions& g, const std::vector<std::string>& args, std::ostream&,
               std::ostream& err) {
    if (args.empty()) {
        err << "gitvisor: error: " << verb << " needs at least one unit\n";
        return kExitUsage;
    }
    Object::Ptr req = new Object;
    req->set("cmd", verb);
    Array::Ptr units = new Array;
    for (const std::string& a : args) units->add(a);
    req->set("units", units);
    int code = kExitSuccess;
    std::string what;
    for (size_t i = 0; i < args.size(); ++i) what += (i ? " " : "") + args[i];
    auto r = request(g, req, verb, what, err, code);
    return r ? kExitSuccess : code;
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
    Object::Ptr req = new Object;
    req->set("cmd", "history");
    req->set("n", n);
    int code = kExitSuccess;
    auto r = request(g, req, "show", "history", err, code);
    if (!r) return code;
    const Array::Ptr list = (*r)->getArray("deployments");
    if (g.json) {
        print_json(list, out);
        return kExitSuccess;
    }
    for (size_t i = 0; i < list->size(); ++i) {
        const Object::Ptr d = list->getObject(i);
        out << "#" << number(d, "id") << " " << short_commit(text(d, "commit")) << " " << std::left << std::setw(10)
            << text(d, "result") << " " << std::setw(8) << text(d, "trigger") << " " << text(d, "started");
        if (number(d, "duration_ms") >= 0) out << " (" << number(d, "duration_ms") << " ms)";
        out << "  " << text(d, "subject") << "\n";
        const Array::Ptr actions = d->getArray("actions");
        for (size_t k = 0; actions && k < actions->size(); ++k) {
            const Object::Ptr a = actions->getObject(k);
            out << "    " << text(a, "action") << " " << text(a, "unit") << " (" << text(a, "reason") << ")";
            if (!text(a, "result").empty() && text(a, "result") != "done") out << ": " << text(a, "result");
            out << "\n";
        }
        const Array::Ptr errors = d->getArray("errors");
        for (size_t k = 0; errors && k < errors->size(); ++k) {
            const Object::Ptr e = errors->getObject(k);
            out << "    " << text(e, "file");
            if (number(e, "line") > 0) out << ":" << number(e, "line");
            out << ": error: " << text(e, "message") << "\n";
        }
    }
    return kExitSuccess;
}

int run_cat(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.size() != 1) {
        err << "gitvisor: error: cat takes one unit\n";
        return kExitUsage;
    }
    Object::Ptr req = new Object;
    req->set("cmd", "cat");
    req->set("unit", args[0]);
    int code = kExitSuccess;
    auto r = request(g, req, "show", args[0], err, code);
    if (!r) return code;
    if (g.json) {
        print_json(*r, out);
    } else {
        out << text(*r, "text");
    }
    return kExitSuccess;
}

}  // namespace gitvisor::cli
