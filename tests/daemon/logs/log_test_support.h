#pragma once
// Shared helpers for the log tests: a temporary folder removed afterwards, log lines in gitvisor-exec's
// format, a writer that appends and rotates exactly as gitvisor-exec does (exec/log_output.cpp), and a
// loop that collects a follower's lines until enough have come.

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "daemon/logs/log_follower.h"
#include "daemon/logs/log_reader.h"

namespace gitvisor::daemon::logs {

// For Catch's messages: the line as it is in the file.
inline std::ostream& operator<<(std::ostream& out, const LogLine& line) {
    return out << line.time_usec << " " << line.stream << " " << line.invocation << " " << line.text;
}

}  // namespace gitvisor::daemon::logs

namespace gitvisor::daemon::logs::testing {

// 2026-11-25T13:20:01.000000Z
constexpr int64_t kBaseUsec = 1795612801000000;

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "gitvisor-logs-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string path() const { return m_path.string(); }
    std::string file(const std::string& name) const { return (m_path / name).string(); }

private:
    std::filesystem::path m_path;
};

// "2026-11-25T13:20:01.123456Z", with gmtime_r: the reader's own arithmetic is checked against it.
inline std::string timestamp(int64_t usec) {
    const time_t seconds = static_cast<time_t>(usec / 1'000'000);
    tm parts{};
    gmtime_r(&seconds, &parts);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", parts.tm_year + 1900,
                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                  static_cast<int>(usec % 1'000'000));
    return buf;
}

inline constexpr const char* kInvocationA = "0123456789abcdef0123456789abcdef";
inline constexpr const char* kInvocationB = "fedcba9876543210fedcba9876543210";

// Line number i of a test log: time kBaseUsec + i seconds, text "line i".
inline LogLine numbered(int i, const std::string& invocation = kInvocationA,
                        const std::string& stream = "stdout") {
    return LogLine{kBaseUsec + int64_t{i} * 1'000'000, stream, invocation, "line " + std::to_string(i)};
}

// The line as gitvisor-exec writes it, newline included.
inline std::string format(const LogLine& line) {
    return timestamp(line.time_usec) + " " + line.stream + " " + line.invocation + " " + line.text + "\n";
}

inline std::string numbered_text(int from, int to, const std::string& invocation = kInvocationA) {
    std::string text;
    for (int i = from; i < to; ++i) text += format(numbered(i, invocation));
    return text;
}

inline std::vector<LogLine> numbered_lines(int from, int to, const std::string& invocation = kInvocationA) {
    std::vector<LogLine> lines;
    for (int i = from; i < to; ++i) lines.push_back(numbered(i, invocation));
    return lines;
}

inline void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    REQUIRE(out.good());
}

// Appends to dir/current as gitvisor-exec does: O_APPEND, one write per line, rotation by renaming
// current.(keep-1) -> current.keep ... current -> current.1 and opening a new `current` (keep 0: unlink).
class ExecWriter {
public:
    ExecWriter(std::string dir, int keep) : m_dir(std::move(dir)), m_keep(keep) { reopen(); }
    ~ExecWriter() { ::close(m_fd); }
    ExecWriter(const ExecWriter&) = delete;
    ExecWriter& operator=(const ExecWriter&) = delete;

    void write(const std::string& bytes) {
        size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::write(m_fd, bytes.data() + done, bytes.size() - done);
            REQUIRE(n > 0);
            done += static_cast<size_t>(n);
        }
    }
    void write_lines(int from, int to, const std::string& invocation = kInvocationA) {
        for (int i = from; i < to; ++i) write(format(numbered(i, invocation)));
    }
    void rotate() {
        for (int i = m_keep - 1; i >= 1; --i)
            ::rename(path("current." + std::to_string(i)).c_str(),
                     path("current." + std::to_string(i + 1)).c_str());
        if (m_keep > 0)
            REQUIRE(::rename(path("current").c_str(), path("current.1").c_str()) == 0);
        else
            REQUIRE(::unlink(path("current").c_str()) == 0);
        reopen();
    }
    // A new gitvisor-exec for the unit (a restart): the same `current`, opened again.
    void reopen() {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = ::open(path("current").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        REQUIRE(m_fd >= 0);
    }
    off_t size() const {
        struct stat st {};
        ::fstat(m_fd, &st);
        return st.st_size;
    }

private:
    std::string path(const std::string& name) const { return m_dir + "/" + name; }

    std::string m_dir;
    int m_keep;
    int m_fd = -1;
};

// Polls the follower and collects its lines until `count` have come, it ended, or 5 seconds passed.
inline std::vector<LogLine> follow(LogFollower& follower, size_t count) {
    std::vector<LogLine> lines;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (lines.size() < count && !follower.ended() && std::chrono::steady_clock::now() < deadline) {
        if (!follower.more()) {
            pollfd p{follower.fd(), POLLIN, 0};
            ::poll(&p, 1, 100);
        }
        for (LogLine& line : follower.read_new()) lines.push_back(std::move(line));
    }
    return lines;
}

// What comes within a short while when nothing should: used to check a partial line is held back.
inline std::vector<LogLine> follow_briefly(LogFollower& follower) {
    std::vector<LogLine> lines;
    pollfd p{follower.fd(), POLLIN, 0};
    ::poll(&p, 1, 100);
    for (LogLine& line : follower.read_new()) lines.push_back(std::move(line));
    return lines;
}

}  // namespace gitvisor::daemon::logs::testing
