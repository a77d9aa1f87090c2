#pragma once
// daemon_bench's output: one table (figure, value, target, PASS/FAIL) headed by the machine, and the same
// figures as JSON, with every sample.

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gitvisor::bench {

struct Figure {
    std::string id;     // stable JSON key, e.g. "commit_to_running_p50_ms"
    std::string label;  // what the table says
    double value = 0;
    std::string unit;              // "ms", "s", "MB" (10^6 bytes), "KiB"; "" for a count
    std::optional<double> target;  // the most `value` may be; none for a figure given for information
    std::vector<double> samples;   // in `unit`
    std::string method;            // how it was measured, one line

    std::optional<bool> pass() const {
        if (!target) return std::nullopt;
        return value <= *target;
    }
};

struct Report {
    std::string title = "gitvisor daemon benchmark";           // the first line printed
    std::vector<std::pair<std::string, std::string>> machine;  // (field, value), printed above the table
    std::vector<Figure> figures;
    std::vector<std::string> notes;      // printed under the table
    std::vector<std::string> leftovers;  // what clean-up could not remove (should be none)
    std::string cleaned = "gitvisord stopped; no process, cgroup or folder of this run is left";
    bool completed = false;  // every selected figure ran
};

void print_report(const Report& report);
// A value as the table shows it: "1.23 ms", "0.456 s", "12.3 MB", "4.9 %", "300 KiB", "35".
std::string formatted(double value, const std::string& unit);
// Throws std::runtime_error when `path` cannot be written.
void write_json_report(const Report& report, const std::string& path);

// The end of a benchmark program: the load at the end, the table, the JSON file when asked; returns the exit
// status, `status` or 1 when the JSON could not be written or something was left behind.
int finish_report(Report& report, const std::string& json_path, const char* program, int status);

// A wrong command line (exit status 2).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// "100,1000" -> {"100", "1000"} (empty items dropped).
std::vector<std::string> split_list(const std::string& list);
// The number `text` given to `flag`, from `minimum` to 1,000,000, else UsageError.
int flag_number(const std::string& flag, const std::string& text, long minimum = 1);
// The machine's cores, kernel and cgroup layout, first in the table.
void describe_machine_into(Report& report);

}  // namespace gitvisor::bench
