// Merges what bench/run's programs measured into one table and one JSON file: parse_bench's output, the
// figures daemon_bench wrote, and those peer_bench wrote for each peer, which are then set beside
// gitvisor's, workload by workload, with the ratio gitvisor/peer. The machine is described once.
//
// Usage: bench_table --json PATH [--title TEXT] [--parse FILE] [--daemon FILE]... [--peer FILE]...
//                    [--machine KEY=VALUE]... [--note TEXT]... [--rest-units N] [--idle-seconds N]
// Exit status: 0 when the table was printed and the JSON written, 1 when an input cannot be read or the
// JSON cannot be written, 2 on a usage error.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/json_reader.h"
#include "daemon_bench_report.h"

namespace {

using gitvisor::JsonValue;
using gitvisor::bench::formatted;

struct Row {
    std::string source;  // "parse_bench", "daemon_bench", "peer_bench"
    std::string id;
    std::string label;
    double value = 0;
    std::string unit;
    std::optional<double> target;
    bool at_least = false;  // the target is a minimum (files/s)
    std::string method;
    std::vector<double> samples;

    std::optional<bool> pass() const {
        if (!target) return std::nullopt;
        return at_least ? value >= *target : value <= *target;
    }
};

// What one program reported: its figures, notes and clean-up.
struct Part {
    std::string name;  // "daemon_bench", or the peer's name
    std::vector<std::pair<std::string, std::string>> machine;
    std::vector<Row> rows;
    std::vector<std::string> notes;
    std::vector<std::string> leftovers;
    std::string cleaned;
    bool completed = false;
};

// The workloads set side by side: the same figure id in daemon_bench's and peer_bench's output.
struct Workload {
    const char* id;
    const char* label;
};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string text_of(const JsonValue& object, const char* key) {
    const JsonValue* v = object.find(key);
    return v ? v->as_string() : std::string();
}

// A JSON report written by daemon_bench or peer_bench (write_json_report).
Part read_report(const std::string& path, const std::string& source) {
    const auto json = gitvisor::parse_json(read_text(path));
    if (!json || !json->is_object())
        throw std::runtime_error("'" + path + "' is not a report: " + json.error());
    Part part;
    part.name = source;
    if (const JsonValue* machine = json->find("machine"))
        for (size_t i = 0; i < machine->keys().size(); ++i)
            part.machine.emplace_back(machine->keys()[i], machine->items()[i].as_string());
    if (const JsonValue* figures = json->find("figures")) {
        for (const JsonValue& f : figures->items()) {
            Row row;
            row.source = source == "daemon_bench" ? source : "peer_bench";
            row.id = text_of(f, "id");
            row.label = text_of(f, "figure");
            row.unit = text_of(f, "unit");
            row.method = text_of(f, "method");
            if (const JsonValue* v = f.find("value")) row.value = v->as_double();
            if (const JsonValue* t = f.find("target"); t && t->is_number()) row.target = t->as_double();
            if (const JsonValue* s = f.find("samples"))
                for (const JsonValue& sample : s->items()) row.samples.push_back(sample.as_double());
            part.rows.push_back(std::move(row));
        }
    }
    if (const JsonValue* notes = json->find("notes"))
        for (const JsonValue& n : notes->items()) part.notes.push_back(n.as_string());
    if (const JsonValue* left = json->find("leftovers"))
        for (const JsonValue& l : left->items()) part.leftovers.push_back(l.as_string());
    if (const JsonValue* done = json->find("completed")) part.completed = done->as_bool();
    return part;
}

// parse_bench's three lines: "unit files parsed, validated and hashed: N per run (X KiB each), R runs
// after a warm-up", "files/s (median): M   min A   max B   target >= 50000: PASS", "peak RSS: X MiB".
Part read_parse_output(const std::string& path) {
    Part part;
    part.name = "parse_bench";
    std::istringstream lines(read_text(path));
    std::string what = "unit files parsed, validated and hashed";
    bool rate = false;
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("unit files parsed")) {
            what = line;
        } else if (line.starts_with("files/s (median):")) {
            Row row{"parse_bench",
                    "parse_files_per_s",
                    "unit files parsed per second, median",
                    0,
                    "files/s",
                    50000.0,
                    true,
                    what,
                    {}};
            double median = 0, low = 0, high = 0;
            if (std::sscanf(line.c_str(), "files/s (median): %lf min %lf max %lf", &median, &low, &high) != 3)
                throw std::runtime_error("cannot read parse_bench's line '" + line + "'");
            row.value = median;
            row.samples = {low, median, high};  // parse_bench prints the median, min and max only
            part.rows.push_back(row);
            rate = true;
        } else if (line.starts_with("peak RSS:")) {
            Row row{"parse_bench",
                    "parse_peak_rss_mib",
                    "  parse_bench's peak RSS",
                    0,
                    "MiB",
                    std::nullopt,
                    false,
                    "getrusage ru_maxrss of parse_bench after the runs",
                    {}};
            row.value = std::strtod(line.c_str() + 9, nullptr);
            part.rows.push_back(row);
        } else if (line.starts_with("unexpected:")) {
            part.notes.push_back("parse_bench: " + line);
        }
    }
    part.completed = rate;
    if (!rate) part.notes.push_back("parse_bench printed no files/s line");
    return part;
}

const Row* find_row(const Part& part, const std::string& id) {
    for (const Row& r : part.rows)
        if (r.id == id) return &r;
    return nullptr;
}

std::string ratio_text(std::optional<double> ratio) {
    if (!ratio) return "-";
    char text[32];
    std::snprintf(text, sizeof text, *ratio < 0.1 && *ratio > 0 ? "%.3f" : "%.2f", *ratio);
    return text;
}

std::optional<double> ratio_of(const Row* ours, const Row* theirs) {
    if (!ours || !theirs || theirs->value <= 0) return std::nullopt;
    return ours->value / theirs->value;
}

JsonValue row_json(const Row& r) {
    JsonValue o = JsonValue::make_object();
    o.add_member("source", JsonValue::make_string(r.source));
    o.add_member("id", JsonValue::make_string(r.id));
    o.add_member("figure", JsonValue::make_string(r.label));
    o.add_member("value", JsonValue::make_number(r.value));
    o.add_member("unit", JsonValue::make_string(r.unit));
    o.add_member("target", r.target ? JsonValue::make_number(*r.target) : JsonValue());
    if (r.target) o.add_member("target_kind", JsonValue::make_string(r.at_least ? "at least" : "at most"));
    const std::optional<bool> pass = r.pass();
    o.add_member("result", pass ? JsonValue::make_string(*pass ? "PASS" : "FAIL") : JsonValue());
    o.add_member("method", JsonValue::make_string(r.method));
    JsonValue samples = JsonValue::make_array();
    for (double s : r.samples) samples.push_back(JsonValue::make_number(s));
    o.add_member("samples", std::move(samples));
    return o;
}

JsonValue strings_json(const std::vector<std::string>& items) {
    JsonValue a = JsonValue::make_array();
    for (const std::string& s : items) a.push_back(JsonValue::make_string(s));
    return a;
}

JsonValue machine_json(const std::vector<std::pair<std::string, std::string>>& machine) {
    JsonValue o = JsonValue::make_object();
    for (const auto& [key, value] : machine) o.add_member(key, JsonValue::make_string(value));
    return o;
}

struct Options {
    std::string json_path;
    std::string title = "gitvisor benchmarks";
    std::string parse_path;
    std::vector<std::string> daemon_paths;
    std::vector<std::string> peer_paths;
    std::vector<std::pair<std::string, std::string>> machine;
    std::vector<std::string> notes;
    int rest_units = 100;
    int idle_seconds = 30;
};

const char* const kUsage =
    "usage: bench_table --json PATH [--title TEXT] [--parse FILE] [--daemon FILE]... [--peer FILE]...\n"
    "                   [--machine KEY=VALUE]... [--note TEXT]... [--rest-units N] [--idle-seconds N]\n"
    "  --parse FILE     parse_bench's output\n"
    "  --daemon FILE    daemon_bench's --json file (several: their figures one after the other)\n"
    "  --peer FILE      peer_bench's --json file, once per peer\n";

using gitvisor::bench::UsageError;

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) throw UsageError("'" + flag + "' needs a value, or is unknown");
        const std::string value = argv[++i];
        if (flag == "--json") {
            o.json_path = value;
        } else if (flag == "--title") {
            o.title = value;
        } else if (flag == "--parse") {
            o.parse_path = value;
        } else if (flag == "--daemon") {
            o.daemon_paths.push_back(value);
        } else if (flag == "--peer") {
            o.peer_paths.push_back(value);
        } else if (flag == "--machine") {
            const size_t eq = value.find('=');
            if (eq == std::string::npos) throw UsageError("'--machine' needs KEY=VALUE, not '" + value + "'");
            o.machine.emplace_back(value.substr(0, eq), value.substr(eq + 1));
        } else if (flag == "--note") {
            o.notes.push_back(value);
        } else if (flag == "--rest-units") {
            o.rest_units = std::atoi(value.c_str());
        } else if (flag == "--idle-seconds") {
            o.idle_seconds = std::atoi(value.c_str());
        } else {
            throw UsageError("unknown option '" + flag + "'");
        }
    }
    if (o.json_path.empty()) throw UsageError("'--json PATH' is needed");
    return o;
}

void print_table(const Options& options, const std::vector<std::pair<std::string, std::string>>& machine,
                 const std::vector<Part>& ours) {
    std::printf("%s\n", options.title.c_str());
    for (const auto& [field, value] : machine)
        std::printf("  %-14s %s\n", (field + ":").c_str(), value.c_str());

    // 1. Every figure of gitvisor's own programs.
    size_t width = 6;
    for (const Part& p : ours)
        for (const Row& r : p.rows) width = std::max(width, r.label.size());
    std::printf("\n%-*s  %16s  %20s  %s\n", static_cast<int>(width), "figure", "value", "target", "result");
    for (const Part& p : ours) {
        for (const Row& r : p.rows) {
            const std::string target =
                r.target ? (r.at_least ? ">= " : "<= ") + formatted(*r.target, r.unit) : "-";
            const std::optional<bool> pass = r.pass();
            std::printf("%-*s  %16s  %20s  %s\n", static_cast<int>(width), r.label.c_str(),
                        formatted(r.value, r.unit).c_str(), target.c_str(),
                        pass ? (*pass ? "PASS" : "FAIL") : "-");
        }
        if (!p.completed)
            std::printf("(%s did not measure every figure: see its error above)\n", p.name.c_str());
    }
    std::printf("\n");
    for (const Part& p : ours)
        for (const std::string& note : p.notes) std::printf("%s\n", note.c_str());
    for (const std::string& note : options.notes) std::printf("%s\n", note.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    try {
        options = parse_options(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "bench_table: error: %s\n%s", e.what(), kUsage);
        return 2;
    }
    std::vector<Part> ours, peers;
    std::vector<std::string> problems;
    try {
        if (!options.parse_path.empty()) ours.push_back(read_parse_output(options.parse_path));
        // Several daemon_bench runs (bench/run measures figure 11 in a run of its own) make one part: the
        // machine as the first describes it, every figure, note and leftover.
        for (const std::string& path : options.daemon_paths) {
            Part run = read_report(path, "daemon_bench");
            Part* first = nullptr;
            for (Part& p : ours)
                if (p.name == "daemon_bench") first = &p;
            if (!first) {
                ours.push_back(std::move(run));
                continue;
            }
            for (auto& [key, value] : first->machine)
                for (const auto& [later_key, later_value] : run.machine)
                    if (key == "load at end" && later_key == key) value = later_value;
            first->rows.insert(first->rows.end(), run.rows.begin(), run.rows.end());
            first->notes.insert(first->notes.end(), run.notes.begin(), run.notes.end());
            first->leftovers.insert(first->leftovers.end(), run.leftovers.begin(), run.leftovers.end());
            first->completed = first->completed && run.completed;
        }
        for (const std::string& path : options.peer_paths) {
            Part peer = read_report(path, "peer");
            // peer_bench describes the peer as "NAME VERSION (...): how it runs".
            for (const auto& [key, value] : peer.machine)
                if (key == "peer") peer.name = value.substr(0, value.find(' '));
            peers.push_back(std::move(peer));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_table: error: %s\n", e.what());
        return 1;
    }
    // The machine once: daemon_bench's description (or a peer's when it did not run), then ours.
    std::vector<std::pair<std::string, std::string>> machine;
    for (const Part& p : ours)
        if (p.name == "daemon_bench") machine = p.machine;
    if (machine.empty() && !peers.empty())
        for (const auto& kv : peers.front().machine)
            if (kv.first == "cores" || kv.first == "kernel" || kv.first == "cgroups") machine.push_back(kv);
    for (const Part& p : peers)
        for (const auto& [key, value] : p.machine)
            if (key == "peer") machine.emplace_back(p.name, value.substr(value.find(' ') + 1));
    machine.insert(machine.end(), options.machine.begin(), options.machine.end());

    print_table(options, machine, ours);

    // 2. gitvisor beside its peers.
    const std::string rest = std::to_string(options.rest_units);
    const std::string idle = std::to_string(options.idle_seconds);
    const std::vector<std::pair<std::string, std::string>> workloads = {
        {"bring_up_100_s", "start-up of 100 services"},
        {"bring_up_1000_s", "start-up of 1,000 services"},
        {"crash_to_restart_p50_ms", "kill -9 → new process, median"},
        {"status_round_trip_p50_ms", "status round trip, median"},
        {"rest_total_pss_mb", "supervisor PSS, " + rest + " services"},
        {"idle_wakeups_total", "wake-ups in " + idle + " s at rest, " + rest + " services"},
    };
    const Part* daemon = nullptr;
    for (const Part& p : ours)
        if (p.name == "daemon_bench") daemon = &p;
    JsonValue comparison = JsonValue::make_array();
    if (!peers.empty()) {
        std::printf(
            "\ngitvisor beside %s: the same workloads, this machine, this run (ratio < 1: gitvisor is "
            "faster or smaller)\n",
            peers.size() == 1 ? peers.front().name.c_str() : "its peers");
        std::printf("%-40s  %12s", "workload", "gitvisor");
        for (const Part& p : peers) std::printf("  %12s", p.name.c_str());
        for (const Part& p : peers) std::printf("  %20s", ("gitvisor/" + p.name).c_str());
        std::printf("\n");
        for (const auto& [id, label] : workloads) {
            const Row* g = daemon ? find_row(*daemon, id) : nullptr;
            std::printf("%-40s  %12s", label.c_str(), g ? formatted(g->value, g->unit).c_str() : "-");
            JsonValue entry = JsonValue::make_object();
            entry.add_member("id", JsonValue::make_string(id));
            entry.add_member("workload", JsonValue::make_string(label));
            entry.add_member("gitvisor", g ? JsonValue::make_number(g->value) : JsonValue());
            entry.add_member("unit", JsonValue::make_string(g ? g->unit : ""));
            JsonValue ratios = JsonValue::make_object();
            for (const Part& p : peers) {
                const Row* r = find_row(p, id);
                std::printf("  %12s", r ? formatted(r->value, r->unit).c_str() : "-");
                entry.add_member(p.name, r ? JsonValue::make_number(r->value) : JsonValue());
                const std::optional<double> ratio = ratio_of(g, r);
                ratios.add_member(p.name, ratio ? JsonValue::make_number(*ratio) : JsonValue());
            }
            for (const Part& p : peers)
                std::printf("  %20s", ratio_text(ratio_of(g, find_row(p, id))).c_str());
            std::printf("\n");
            entry.add_member("ratio_gitvisor_to", std::move(ratios));
            comparison.push_back(std::move(entry));
        }
        std::printf(
            "\nstart-up: gitvisor: one commit adding the units to a running gitvisord, until every unit is "
            "active; "
            "peers: the supervisor started with the services configured (a cold start), until its status "
            "tool "
            "says every one runs\n"
            "kill -9, status, PSS and wake-ups are measured the same way on every side (bench/README.md); "
            "PSS "
            "counts the supervision processes, not the services' own\n");
        for (const Part& p : peers) {
            for (const char* id : {"bring_up_100_started_s", "bring_up_1000_started_s"})
                if (const Row* r = find_row(p, id))
                    std::printf(
                        "%s: %s, every process was started after %s\n", p.name.c_str(),
                        std::string(id).find("1000") != std::string::npos ? "1,000 services" : "100 services",
                        formatted(r->value, r->unit).c_str());
            for (const std::string& note : p.notes) std::printf("%s\n", note.c_str());
            if (!p.completed)
                std::printf("(%s: not every workload ran: see its error above)\n", p.name.c_str());
        }
    }

    // 3. Clean-up of every part.
    std::printf("\n");
    for (const Part& p : ours)
        for (const std::string& what : p.leftovers) problems.push_back(p.name + ": " + what);
    for (const Part& p : peers)
        for (const std::string& what : p.leftovers) problems.push_back(p.name + ": " + what);
    if (problems.empty()) {
        std::printf("clean-up: gitvisord%s stopped; no process, cgroup or folder of this run is left\n",
                    peers.empty() ? "" : " and every peer");
    } else {
        std::printf("clean-up: could not remove:\n");
        for (const std::string& what : problems) std::printf("  %s\n", what.c_str());
    }

    // 4. The same as JSON.
    bool completed = true;
    JsonValue figures = JsonValue::make_array();
    std::vector<std::string> notes;
    for (const Part& p : ours) {
        completed = completed && p.completed;
        for (const Row& r : p.rows) figures.push_back(row_json(r));
        notes.insert(notes.end(), p.notes.begin(), p.notes.end());
    }
    notes.insert(notes.end(), options.notes.begin(), options.notes.end());
    JsonValue peer_json = JsonValue::make_object();
    for (const Part& p : peers) {
        completed = completed && p.completed;
        JsonValue one = JsonValue::make_object();
        one.add_member("machine", machine_json(p.machine));
        JsonValue rows = JsonValue::make_array();
        for (const Row& r : p.rows) rows.push_back(row_json(r));
        one.add_member("figures", std::move(rows));
        one.add_member("notes", strings_json(p.notes));
        one.add_member("leftovers", strings_json(p.leftovers));
        one.add_member("completed", JsonValue::make_bool(p.completed));
        peer_json.add_member(p.name, std::move(one));
    }
    JsonValue out = JsonValue::make_object();
    out.add_member("title", JsonValue::make_string(options.title));
    out.add_member("machine", machine_json(machine));
    out.add_member("figures", std::move(figures));
    out.add_member("notes", strings_json(notes));
    out.add_member("peers", std::move(peer_json));
    out.add_member("comparison", std::move(comparison));
    out.add_member("leftovers", strings_json(problems));
    out.add_member("completed", JsonValue::make_bool(completed));
    std::ofstream file(options.json_path, std::ios::binary | std::ios::trunc);
    file << gitvisor::write_json(out, 2) << "\n";
    if (!file.flush()) {
        std::fprintf(stderr, "bench_table: error: cannot write '%s'\n", options.json_path.c_str());
        return 1;
    }
    return 0;
}
