// Parses generated unit files and prints files/s and peak RSS.
// Usage: parse_bench [FILES] [RUNS]   (defaults: 10000 files, 5 timed runs after one warm-up run)
// Target (issue "Foundation"): at least 50,000 files/s on one core.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "unitfile/normalize.h"
#include "unitfile/unit_loader.h"

using namespace gitvisor::unitfile;

namespace {

// A realistic unit of about 30 lines; `i` varies names, values and which optional lines appear.
std::string make_unit(size_t i) {
    std::string n = std::to_string(i);
    std::string text =
        "# generated unit " + n + "\n"
        "[Unit]\n"
        "Description=Generated service number " + n + " on %H\n"
        "After=db.service cache-" + std::to_string(i % 7) + ".service\n"
        "Wants=cache-" + std::to_string(i % 7) + ".service\n\n"
        "[Service]\n"
        "Type=" + (i % 3 == 0 ? "notify" : "simple") + "\n"
        "User=svc" + std::to_string(i % 13) + "\n"
        "WorkingDirectory=/srv/app" + n + "\n"
        "Environment=\"INSTANCE=" + n + "\" LEVEL=info PORT=" + std::to_string(8000 + i % 1000) + "\n"
        "EnvironmentFile=-/etc/default/app" + n + "\n"
        "ExecStartPre=-/usr/bin/test -d /srv/app" + n + "\n"
        "ExecStart=/usr/bin/app --port ${PORT} --name 'service " + n + "' \\\n"
        "    --verbose\n"
        "ExecReload=/bin/kill -HUP $MAINPID\n"
        "Restart=on-failure\n"
        "RestartSec=" + std::to_string(1 + i % 9) + "s\n"
        "TimeoutStopSec=1min 30s\n"
        "KillSignal=SIGINT\n"
        "MemoryMax=" + std::to_string(64 + i % 512) + "M\n"
        "CPUQuota=" + std::to_string(10 + i % 190) + "%\n"
        "TasksMax=256\n"
        "LimitNOFILE=4096:8192\n"
        "NoNewPrivileges=yes\n";
    if (i % 2) text += "PrivateTmp=yes\nProtectSystem=full\n";
    if (i % 5 == 0) text += "ProtectKernelTunables=yes\n";  // an ignored directive: a warning
    text += "\n[Install]\nWantedBy=multi-user.target\n";
    return text;
}

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
    const size_t files = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
    const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
    std::vector<std::string> names, texts;
    for (size_t i = 0; i < files; ++i) {
        names.push_back("app" + std::to_string(i) + ".service");
        texts.push_back(make_unit(i));
    }
    SpecifierContext context = SpecifierContext::for_host("");
    size_t bytes = 0;
    for (const std::string& t : texts) bytes += t.size();

    std::vector<double> rates;
    size_t errors = 0;
    for (int run = -1; run < runs; ++run) {  // run -1 warms up
        const auto start = std::chrono::steady_clock::now();
        errors = 0;
        for (size_t i = 0; i < files; ++i) {
            LoadedUnit u = load_unit(names[i], {names[i], texts[i]}, {}, context);
            if (!u.ok()) ++errors;
            if (spec_hash(u.unit).empty()) ++errors;
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (run >= 0) rates.push_back(static_cast<double>(files) / seconds);
    }
    std::sort(rates.begin(), rates.end());
    const double median = rates[rates.size() / 2];
    std::printf("unit files parsed, validated and hashed: %zu per run (%.1f KiB each), %d runs after a warm-up\n",
                files, static_cast<double>(bytes) / static_cast<double>(files) / 1024.0, runs);
    std::printf("files/s (median): %.0f   min %.0f   max %.0f   target >= 50000: %s\n", median, rates.front(),
                rates.back(), median >= 50000 ? "PASS" : "FAIL");
    std::printf("peak RSS: %.1f MiB\n", static_cast<double>(peak_rss_kib()) / 1024.0);
    if (errors) std::printf("unexpected: %zu files had errors\n", errors);
    return errors ? 1 : 0;
}
