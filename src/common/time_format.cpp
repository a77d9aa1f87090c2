#include "common/time_format.h"

#include <ctime>

namespace gitvisor {
namespace {

std::string strftime_utc(int64_t usec, const char* format) {
    const time_t seconds = static_cast<time_t>(usec / 1'000'000);
    tm parts{};
    gmtime_r(&seconds, &parts);
    char buf[64];
    const size_t n = std::strftime(buf, sizeof buf, format, &parts);
    return std::string(buf, n);
}

}  // namespace

int64_t realtime_usec() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

std::string format_rfc3339(int64_t usec) { return usec <= 0 ? std::string() : strftime_utc(usec, "%Y-%m-%dT%H:%M:%SZ"); }

std::string format_human_time(int64_t usec) {
    return usec <= 0 ? std::string() : strftime_utc(usec, "%Y-%m-%d %H:%M:%S UTC");
}

std::string format_age(int64_t usec_ago) {
    int64_t s = usec_ago < 0 ? 0 : usec_ago / 1'000'000;
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return std::to_string(s / 60) + "min " + std::to_string(s % 60) + "s";
    if (s < 86400) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "min";
    return std::to_string(s / 86400) + " days";
}

}  // namespace gitvisor
