#include "exec/exec_directories.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "exec/paths.h"

namespace gitvisor::exec {
namespace {

constexpr const char* kVariables[kDirectoryTypes] = {
    "RUNTIME_DIRECTORY", "STATE_DIRECTORY", "CACHE_DIRECTORY", "LOGS_DIRECTORY", "CONFIGURATION_DIRECTORY"};

std::string join(const std::string& base, const std::string& name) {
    return base.ends_with('/') ? base + name : base + "/" + name;
}

// Calls `visit(dirfd, name, stat)` for every entry of the directory `fd` (not . and ..).
template <class Visit>
void for_each_entry(int fd, Visit&& visit) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) return;
    DIR* dir = ::fdopendir(copy);
    if (dir == nullptr) {
        ::close(copy);
        return;
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    for (const std::string& name : names) {
        struct stat st {};
        if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) visit(fd, name, st);
    }
}

// rm -rf of what the directory `fd` holds, on its own file system only (a mount point is left alone).
void remove_contents(int fd, dev_t device) {
    for_each_entry(fd, [&](int dir, const std::string& name, const struct stat& st) {
        if (!S_ISDIR(st.st_mode)) {
            ::unlinkat(dir, name.c_str(), 0);
            return;
        }
        if (st.st_dev != device) return;
        UniqueFd child(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!child) return;
        remove_contents(child.get(), device);
        ::unlinkat(dir, name.c_str(), AT_REMOVEDIR);
    });
}

// chown -R, without following symbolic links, on the directory's own file system.
void chown_contents(int fd, dev_t device, uid_t uid, gid_t gid) {
    for_each_entry(fd, [&](int dir, const std::string& name, const struct stat& st) {
        ::fchownat(dir, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
        if (!S_ISDIR(st.st_mode) || st.st_dev != device) return;
        UniqueFd child(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (child) chown_contents(child.get(), device, uid, gid);
    });
}

// Opens `name` (a relative path) under `base`, making what is missing: the parents with 0755, the last
// with `mode`. `*created` says whether the last one was made now.
UniqueFd make_path(int base, const std::string& name, mode_t mode, bool* created) {
    std::vector<std::string> parts;
    for (size_t start = 0; start < name.size();) {
        size_t slash = name.find('/', start);
        if (slash == std::string::npos) slash = name.size();
        std::string part = name.substr(start, slash - start);
        if (!part.empty() && part != ".") parts.push_back(std::move(part));
        start = slash + 1;
    }
    if (parts.empty()) {
        errno = EINVAL;
        return UniqueFd();
    }
    UniqueFd dir(::fcntl(base, F_DUPFD_CLOEXEC, 3));
    for (size_t i = 0; i < parts.size() && dir; ++i) {
        const bool last = i + 1 == parts.size();
        const int made = ::mkdirat(dir.get(), parts[i].c_str(), last ? mode : 0755);
        if (made != 0 && errno != EEXIST) return UniqueFd();
        if (last) *created = made == 0;
        dir.reset(::openat(dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    }
    return dir;
}

}  // namespace

SetupStep directory_step(DirectoryType type) {
    switch (type) {
        case DirectoryType::Runtime:
            return SetupStep::RuntimeDirectory;
        case DirectoryType::State:
            return SetupStep::StateDirectory;
        case DirectoryType::Cache:
            return SetupStep::CacheDirectory;
        case DirectoryType::Logs:
            return SetupStep::LogsDirectory;
        case DirectoryType::Configuration:
            return SetupStep::ConfigurationDirectory;
    }
    return SetupStep::RuntimeDirectory;
}

EnvList directory_environment(const Spec& spec) {
    EnvList env;
    for (size_t type = 0; type < kDirectoryTypes; ++type) {
        const ExecDirectory& d = spec.directories[type];
        if (d.names.empty()) continue;
        std::string value;
        for (const std::string& name : d.names) value += (value.empty() ? "" : ":") + join(d.base, name);
        env.emplace_back(kVariables[type], value);
    }
    return env;
}

std::vector<std::string> writable_directories(const Spec& spec) {
    std::vector<std::string> out;
    for (size_t type = 0; type < kDirectoryTypes; ++type) {
        if (static_cast<DirectoryType>(type) == DirectoryType::Configuration) continue;
        for (const std::string& name : spec.directories[type].names)
            out.push_back(join(spec.directories[type].base, name));
    }
    return out;
}

bool ExecDirectories::open(const Spec& spec, SetupStep* step, int* error) {
    for (size_t type = 0; type < kDirectoryTypes; ++type) {
        const ExecDirectory& d = spec.directories[type];
        if (d.names.empty()) continue;
        if (!make_directories(d.base)) {
            *step = directory_step(static_cast<DirectoryType>(type));
            *error = errno;
            return false;
        }
        m_bases[type].reset(::open(d.base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!m_bases[type]) {
            *step = directory_step(static_cast<DirectoryType>(type));
            *error = errno;
            return false;
        }
    }
    return true;
}

bool ExecDirectories::create(const Spec& spec, uid_t uid, gid_t gid, SetupStep* step, int* error) {
    for (size_t type = 0; type < kDirectoryTypes; ++type) {
        const ExecDirectory& d = spec.directories[type];
        const bool configuration = static_cast<DirectoryType>(type) == DirectoryType::Configuration;
        for (const std::string& name : d.names) {
            const auto fail = [&] {
                *step = directory_step(static_cast<DirectoryType>(type));
                *error = errno;
                return false;
            };
            if (!m_bases[type]) {
                errno = EBADF;  // open() was not called, or failed
                return fail();
            }
            bool created = false;
            UniqueFd dir = make_path(m_bases[type].get(), name, d.mode, &created);
            if (!dir) return fail();
            // An existing configuration directory is the administrator's: its owner and mode stay.
            if (configuration && !created) continue;
            if (::fchmod(dir.get(), d.mode) != 0) return fail();
            if (configuration) continue;  // root's, as systemd documents
            struct stat st {};
            if (::fstat(dir.get(), &st) != 0) return fail();
            if (st.st_uid == uid && st.st_gid == gid) continue;
            // Another owner (a new User=): the whole tree changes hands, as in systemd.
            if (::fchown(dir.get(), uid, gid) != 0) return fail();
            chown_contents(dir.get(), st.st_dev, uid, gid);
        }
    }
    return true;
}

void ExecDirectories::clear_runtime(const Spec& spec) {
    const int base = m_bases[static_cast<size_t>(DirectoryType::Runtime)].get();
    if (base < 0) return;
    for (const std::string& name : spec.directories[static_cast<size_t>(DirectoryType::Runtime)].names) {
        UniqueFd dir(::openat(base, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        struct stat st {};
        if (dir && ::fstat(dir.get(), &st) == 0) remove_contents(dir.get(), st.st_dev);
    }
}

void ExecDirectories::remove_runtime(const Spec& spec, bool unmount) {
    const ExecDirectory& d = spec.directories[static_cast<size_t>(DirectoryType::Runtime)];
    const int base = m_bases[static_cast<size_t>(DirectoryType::Runtime)].get();
    if (base < 0) return;
    for (const std::string& name : d.names) {
        if (unmount) ::umount2(join(d.base, name).c_str(), MNT_DETACH);
        UniqueFd dir(::openat(base, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        struct stat st {};
        if (!dir || ::fstat(dir.get(), &st) != 0) continue;
        remove_contents(dir.get(), st.st_dev);
        dir.reset();
        ::unlinkat(base, name.c_str(), AT_REMOVEDIR);
    }
}

}  // namespace gitvisor::exec
