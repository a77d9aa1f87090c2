#include "daemon/logs/log_line.h"

namespace gitvisor::daemon::logs {
namespace {

constexpr size_t kTimestampSize = 27;  // YYYY-MM-DDTHH:MM:SS.uuuuuuZ

// The digits at line[at, at + width) as a number; nullopt when one is not a digit.
std::optional<int64_t> digits(std::string_view line, size_t at, size_t width) {
    int64_t value = 0;
    for (size_t i = at; i < at + width; ++i) {
        if (line[i] < '0' || line[i] > '9') return std::nullopt;
        value = value * 10 + (line[i] - '0');
    }
    return value;
}

bool is_leap(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int64_t days_in_month(int64_t year, int64_t month) {
    static constexpr int64_t kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// Days from 1970-01-01 to a civil date (proleptic Gregorian), as timegm() computes it but without the
// time zone machinery (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
    year -= month <= 2 ? 1 : 0;
    const int64_t era = (year >= 0 ? year : year - 399) / 400;
    const int64_t year_of_era = year - era * 400;
    const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

std::optional<int64_t> parse_timestamp(std::string_view ts) {
    static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    for (size_t i = 0; i < kShape.size(); ++i) {
        if (kShape[i] != 'd' && ts[i] != kShape[i]) return std::nullopt;
    }
    const auto year = digits(ts, 0, 4), month = digits(ts, 5, 2), day = digits(ts, 8, 2);
    const auto hour = digits(ts, 11, 2), minute = digits(ts, 14, 2), second = digits(ts, 17, 2);
    const auto micros = digits(ts, 20, 6);
    if (!year || !month || !day || !hour || !minute || !second || !micros) return std::nullopt;
    if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month)) return std::nullopt;
    if (*hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
    const int64_t seconds =
        days_from_civil(*year, *month, *day) * 86400 + *hour * 3600 + *minute * 60 + *second;
    return seconds * 1'000'000 + *micros;
}

// The word starting at `at` up to the next space; empty when there is no space after it.
std::string_view word(std::string_view line, size_t at) {
    const size_t space = line.find(' ', at);
    if (space == std::string_view::npos) return {};
    return line.substr(at, space - at);
}

}  // namespace

std::optional<LogLine> parse_log_line(std::string_view line) {
    if (line.size() < kTimestampSize + 1 || line[kTimestampSize] != ' ') return std::nullopt;
    if (line.find('\n') != std::string_view::npos) return std::nullopt;
    const auto time = parse_timestamp(line.substr(0, kTimestampSize));
    if (!time) return std::nullopt;

    size_t at = kTimestampSize + 1;
    const std::string_view stream = word(line, at);
    if (stream.empty()) return std::nullopt;
    for (char c : stream) {
        if ((c < 'a' || c > 'z') && c != '-') return std::nullopt;
    }
    at += stream.size() + 1;
    const std::string_view invocation = word(line, at);
    if (invocation.empty()) return std::nullopt;
    at += invocation.size() + 1;

    return LogLine{*time, std::string(stream), std::string(invocation), std::string(line.substr(at))};
}

}  // namespace gitvisor::daemon::logs
