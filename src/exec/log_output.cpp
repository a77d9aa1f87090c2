#include "exec/log_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "exec/paths.h"

namespace gitvisor::exec {
namespace {

void put_digits(char* out, int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

}  // namespace

std::string format_timestamp(int64_t realtime_usec) {
    const time_t seconds = static_cast<time_t>(realtime_usec / 1'000'000);
    const int64_t micros = realtime_usec % 1'000'000;
    struct tm tm {};
    ::gmtime_r(&seconds, &tm);
    // YYYY-MM-DDTHH:MM:SS.uuuuuuZ
    std::string out(27, '\0');
    put_digits(&out[0], tm.tm_year + 1900, 4);
    out[4] = '-';
    put_digits(&out[5], tm.tm_mon + 1, 2);
    out[7] = '-';
    put_digits(&out[8], tm.tm_mday, 2);
    out[10] = 'T';
    put_digits(&out[11], tm.tm_hour, 2);
    out[13] = ':';
    put_digits(&out[14], tm.tm_min, 2);
    out[16] = ':';
    put_digits(&out[17], tm.tm_sec, 2);
    out[19] = '.';
    put_digits(&out[20], micros, 6);
    out[26] = 'Z';
    return out;
}

Result<bool> LogFile::open(const std::string& path, int64_t max_bytes, int64_t keep) {
    m_max_bytes = max_bytes;
    m_keep = keep;
    if (path.empty()) return Result<bool>::ok(true);
    auto parent = open_parent(path);
    if (!parent) return Result<bool>::fail(parent.error());
    m_dir = std::move(parent->dir);
    m_name = std::move(parent->name);
    auto opened = reopen();
    if (!opened) return Result<bool>::fail("cannot open '" + path + "': " + opened.error());
    return opened;
}

Result<bool> LogFile::reopen() {
    m_fd.reset(
        ::openat(m_dir.get(), m_name.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640));
    if (!m_fd) return Result<bool>::fail(std::strerror(errno));
    struct stat st {};
    m_size = ::fstat(m_fd.get(), &st) == 0 ? st.st_size : 0;
    return Result<bool>::ok(true);
}

void LogFile::rotate() {
    // NAME.(keep-1) -> NAME.keep, ..., NAME -> NAME.1; with keep 0 the old log is simply removed.
    for (int64_t i = m_keep - 1; i >= 1; --i) {
        const std::string from = m_name + "." + std::to_string(i);
        const std::string to = m_name + "." + std::to_string(i + 1);
        ::renameat(m_dir.get(), from.c_str(), m_dir.get(), to.c_str());
    }
    if (m_keep > 0) {
        const std::string first = m_name + ".1";
        ::renameat(m_dir.get(), m_name.c_str(), m_dir.get(), first.c_str());
    } else {
        ::unlinkat(m_dir.get(), m_name.c_str(), 0);
    }
    if (!reopen()) m_fd.reset();
}

void LogFile::write_line(std::string_view stream, std::string_view invocation, std::string_view text,
                         int64_t realtime_usec) {
    if (!m_dir) return;
    // The header is small; the text is written from where it lies.
    std::string header = format_timestamp(realtime_usec);
    header += ' ';
    header += stream;
    header += ' ';
    header += invocation;
    header += ' ';
    const int64_t length = static_cast<int64_t>(header.size() + text.size() + 1);
    if (m_max_bytes > 0 && m_size > 0 && m_size + length > m_max_bytes) rotate();
    if (!m_fd && !reopen()) {
        ++m_dropped;
        return;
    }
    char newline = '\n';
    iovec parts[3] = {
        {header.data(), header.size()}, {const_cast<char*>(text.data()), text.size()}, {&newline, 1}};
    size_t skip = 0;  // bytes of the line already written (after a short write)
    while (skip < static_cast<size_t>(length)) {
        iovec rest[3];
        int count = 0;
        size_t offset = skip;
        for (const iovec& part : parts) {
            if (offset >= part.iov_len) {
                offset -= part.iov_len;
                continue;
            }
            rest[count++] = {static_cast<char*>(part.iov_base) + offset, part.iov_len - offset};
            offset = 0;
        }
        const ssize_t n = ::writev(m_fd.get(), rest, count);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ++m_dropped;
            return;
        }
        skip += static_cast<size_t>(n);
        m_size += n;
    }
}

}  // namespace gitvisor::exec
