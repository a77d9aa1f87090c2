#pragma once
// Entry points of the CLI's commands. Each takes the words after the command name and returns an
// exit code (common/exit_codes.h); output goes to the given streams so tests can capture it.

#include <iosfwd>

#include "common/json_reader.h"
#include <string>
#include <vector>

namespace gitvisor::cli {

// Flags accepted before or after any command (DESIGN §7).
struct GlobalOptions {
    std::string socket;  // --socket PATH
    bool json = false;   // --json
};

// One log line of a `logs` stream: "2026-11-25T13:20:01.123456Z web.service[stderr]: text".
void print_log_line(const JsonValue& line, bool with_unit, std::ostream& out);

int run_verify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_init(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

int run_list(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_status(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
// start, stop, restart
int run_change(const std::string& verb, const GlobalOptions& g, const std::vector<std::string>& args,
               std::ostream& out, std::ostream& err);
int run_history(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_cat(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_sync(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_rollback(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_reload(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_kill(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_reset_failed(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_why(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_tree(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_diff(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_logs(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_events(const GlobalOptions& g, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace gitvisor::cli
