#include "daemon_bench_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "common/json.h"
#include "daemon_bench_probe.h"

namespace gitvisor::bench {
namespace {

std::string json_number(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.6g", value);
    return text;
}

}  // namespace

std::string formatted(double value, const std::string& unit) {
    char text[64];
    const int decimals = unit == "ms" ? 2 : unit == "s" ? 3 : unit == "MB" || unit == "MiB" || unit == "%" ? 1 : 0;
    std::snprintf(text, sizeof text, "%.*f%s%s", decimals, value, unit.empty() ? "" : " ", unit.c_str());
    return text;
}

void print_report(const Report& report) {
    std::printf("%s\n", report.title.c_str());
    for (const auto& [field, value] : report.machine)
        std::printf("  %-14s %s\n", (field + ":").c_str(), value.c_str());
    size_t width = 6;
    for (const Figure& f : report.figures) width = std::max(width, f.label.size());
    std::printf("\n%-*s  %14s  %14s  %s\n", static_cast<int>(width), "figure", "value", "target", "result");
    for (const Figure& f : report.figures) {
        const std::string target = f.target ? "<= " + formatted(*f.target, f.unit) : "-";
        const std::optional<bool> pass = f.pass();
        std::printf("%-*s  %14s  %14s  %s\n", static_cast<int>(width), f.label.c_str(),
                    formatted(f.value, f.unit).c_str(), target.c_str(),
                    pass ? (*pass ? "PASS" : "FAIL") : "-");
    }
    if (!report.completed) std::printf("(not every selected figure ran: see the error above)\n");
    std::printf("\n");
    for (const std::string& note : report.notes) std::printf("%s\n", note.c_str());
    if (report.leftovers.empty()) {
        std::printf("clean-up: %s\n", report.cleaned.c_str());
    } else {
        std::printf("clean-up: could not remove:\n");
        for (const std::string& what : report.leftovers) std::printf("  %s\n", what.c_str());
    }
}

void write_json_report(const Report& report, const std::string& path) {
    std::string out = "{\n  \"machine\": {";
    for (size_t i = 0; i < report.machine.size(); ++i)
        out += std::string(i ? "," : "") + "\n    " + json_quote(report.machine[i].first) + ": " +
               json_quote(report.machine[i].second);
    out += "\n  },\n  \"figures\": [";
    for (size_t i = 0; i < report.figures.size(); ++i) {
        const Figure& f = report.figures[i];
        const std::optional<bool> pass = f.pass();
        out += std::string(i ? "," : "") + "\n    {\"id\": " + json_quote(f.id) +
               ", \"figure\": " + json_quote(f.label) + ", \"value\": " + json_number(f.value) +
               ", \"unit\": " + json_quote(f.unit) +
               ", \"target\": " + (f.target ? json_number(*f.target) : "null") +
               ", \"result\": " + (pass ? (*pass ? "\"PASS\"" : "\"FAIL\"") : "null") +
               ", \"method\": " + json_quote(f.method) + ", \"samples\": [";
        for (size_t s = 0; s < f.samples.size(); ++s) out += (s ? ", " : "") + json_number(f.samples[s]);
        out += "]}";
    }
    out += "\n  ],\n  \"notes\": [";
    for (size_t i = 0; i < report.notes.size(); ++i) out += (i ? ", " : "") + json_quote(report.notes[i]);
    out += "],\n  \"leftovers\": [";
    for (size_t i = 0; i < report.leftovers.size(); ++i)
        out += (i ? ", " : "") + json_quote(report.leftovers[i]);
    out += "],\n  \"completed\": " + std::string(report.completed ? "true" : "false") + "\n}\n";
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << out;
    if (!file.flush()) throw std::runtime_error("cannot write '" + path + "'");
}

int finish_report(Report& report, const std::string& json_path, const char* program, int status) {
    report.machine.emplace_back("load at end", load_average() + " (1-minute average)");
    print_report(report);
    if (!json_path.empty()) {
        try {
            write_json_report(report, json_path);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s: error: %s\n", program, e.what());
            if (status == 0) status = 1;
        }
    }
    if (!report.leftovers.empty() && status == 0) status = 1;
    return status;
}

std::vector<std::string> split_list(const std::string& list) {
    std::vector<std::string> items;
    std::istringstream in(list);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) items.push_back(item);
    return items;
}

int flag_number(const std::string& flag, const std::string& text, long minimum) {
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v < minimum || v > 1'000'000)
        throw UsageError("'" + flag + "' needs a number from " + std::to_string(minimum) + ", not '" + text +
                         "'");
    return static_cast<int>(v);
}

void describe_machine_into(Report& report) {
    const Machine m = describe_machine();
    char cores[160];
    std::snprintf(cores, sizeof cores, "%d (%s), %.1f GiB memory", m.cores, m.cpu_model.c_str(), m.memory_gib);
    report.machine.emplace_back("cores", cores);
    report.machine.emplace_back("kernel", m.kernel);
    report.machine.emplace_back("cgroups", m.cgroup_layout);
}

}  // namespace gitvisor::bench
