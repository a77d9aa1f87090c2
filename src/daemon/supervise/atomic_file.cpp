#include "daemon/supervise/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gitvisor::daemon {

Result<bool> write_file_atomically(const std::string& path, const std::string& contents) {
    const std::string temp = path + ".tmp";
    const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Result<bool>::fail("cannot write '" + temp + "': " + std::strerror(errno));
    size_t done = 0;
    while (done < contents.size()) {
        const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const std::string error = std::strerror(errno);
            close(fd);
            unlink(temp.c_str());
            return Result<bool>::fail("cannot write '" + temp + "': " + error);
        }
        done += static_cast<size_t>(n);
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        const std::string error = std::strerror(errno);
        unlink(temp.c_str());
        return Result<bool>::fail("cannot write '" + temp + "': " + error);
    }
    if (rename(temp.c_str(), path.c_str()) != 0) {
        const std::string error = std::strerror(errno);
        unlink(temp.c_str());
        return Result<bool>::fail("cannot rename '" + temp + "' to '" + path + "': " + error);
    }
    return Result<bool>::ok(true);
}

}  // namespace gitvisor::daemon
