#include "exec/paths.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace gitvisor::exec {

Result<bool> make_directories(const std::string& path) {
    for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
        const std::string prefix = path.substr(0, slash);
        if (!prefix.empty() && ::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
            return Result<bool>::fail("cannot create '" + prefix + "': " + std::strerror(errno));
        }
        if (slash == std::string::npos) break;
    }
    return Result<bool>::ok(true);
}

Result<DirEntry> open_parent(const std::string& path) {
    const size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    if (dir.empty()) dir = "/";
    DirEntry entry;
    entry.name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (entry.name.empty()) return Result<DirEntry>::fail("'" + path + "' names a directory, not a file");
    if (auto made = make_directories(dir); !made) return Result<DirEntry>::fail(made.error());
    entry.dir.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!entry.dir) return Result<DirEntry>::fail("cannot open '" + dir + "': " + std::strerror(errno));
    return Result<DirEntry>::ok(std::move(entry));
}

}  // namespace gitvisor::exec
