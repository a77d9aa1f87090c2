// Figure 6: how soon `gitvisor logs -f` prints a line after the unit wrote it.

#include <time.h>

#include <stdexcept>

#include "common/json_reader.h"
#include "daemon_bench.h"

namespace gitvisor::bench {
namespace {

constexpr const char* kLogUnit = "bench-logs.service";
const char* const kLogUnitText =
    "[Unit]\nDescription=daemon_bench: a line every 20 ms\n\n"
    "[Service]\nExecStart=/bin/sh -c 'while :; do echo tick; sleep 0.02; done'\n";

int64_t realtime_now_usec() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
}

}  // namespace

void Bench::logs_follow() {
    m_files[kLogUnit] = kLogUnitText;
    const UnitRepo::Landed added = commit("bench: a unit that logs");
    wait_deployed(added.commit, 60);
    wait_units({kLogUnit}, true, 30);

    // Lines stamped before the follow began come from the log's history (the last 10): not timed; nor are
    // the first --warmup × 10 new ones.
    std::vector<double> latency;
    {
        const int64_t follow_start = realtime_now_usec();
        RunningProgram follow(m_session.cli_argv({"--json", "logs", "-f", kLogUnit}));
        int warmup = m_options.warmup * 10;
        while (static_cast<int>(latency.size()) < m_options.log_lines) {
            const RunningProgram::Output out = follow.read_lines(std::chrono::seconds(5));
            if (out.ended) throw std::runtime_error("`gitvisor logs -f " + std::string(kLogUnit) + "` ended");
            if (out.read_usec == 0)
                throw std::runtime_error("`gitvisor logs -f " + std::string(kLogUnit) +
                                         "` printed nothing for 5 s");
            for (const std::string& line : out.lines) {
                const Result<JsonValue> json = parse_json(line);
                const JsonValue* written = json && json->is_object() ? json->find("time_usec") : nullptr;
                if (!written || !written->is_integer())
                    throw std::runtime_error("`gitvisor --json logs -f` printed '" + line + "'");
                if (written->as_integer() < follow_start || warmup-- > 0) continue;
                latency.push_back(static_cast<double>(out.read_usec - written->as_integer()) / 1000.0);
            }
        }
    }  // the follow ends here (SIGTERM), before its unit goes

    m_files.erase(kLogUnit);
    const UnitRepo::Landed removed = commit("bench: no more logging unit");
    wait_deployed(removed.commit, 60);

    const std::string n = std::to_string(latency.size());
    const std::string method =
        "`gitvisor --json logs -f UNIT` spawned with its stdout on a pipe; a unit echoes a line every 20 ms; "
        "per line, the benchmark's CLOCK_REALTIME when read() returned it minus the line's time_usec "
        "(stamped by gitvisor-exec when it wrote the line); " +
        n + " lines after " + std::to_string(m_options.warmup * 10) + " untimed";
    add({"logs_follow_p50_ms", "`gitvisor logs -f` write-to-print p50 (" + n + " lines)", median(latency),
         "ms", 50.0, latency, method});
    add({"logs_follow_p99_ms", "`gitvisor logs -f` write-to-print p99", percentile(latency, 99), "ms",
         std::nullopt, latency, method});
}

}  // namespace gitvisor::bench
