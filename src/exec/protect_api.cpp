#include "exec/protect.h"

// The API file systems of the protected tree (protect.h): PrivateDevices='s /dev and the /proc of
// ProtectProc= and ProcSubset=, mounted in the copy before the other entries so that those
// (ProtectKernelTunables= under /proc, ProtectKernelLogs='s /dev/kmsg) apply to them.

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>

namespace gitvisor::exec {
namespace {

// The device nodes systemd's private /dev has: the pseudo devices and the controlling terminal.
constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

// Makes `target` the node `source` is: mknod where allowed (root with CAP_MKNOD), else an empty file
// with the node bound on it (a container without CAP_MKNOD). Returns 0 or an errno.
int copy_device(const std::string& source, const std::string& target) {
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) return errno;
    if (!S_ISCHR(st.st_mode)) return ENODEV;
    if (::mknod(target.c_str(), st.st_mode & (S_IFMT | 07777), st.st_rdev) == 0) return 0;
    if (::mknod(target.c_str(), S_IFREG | 0666, 0) != 0 && errno != EEXIST) return errno;
    return ::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0 ? 0 : errno;
}

// Binds the host's `source` (a directory: /dev/pts, /dev/shm...) at `target` when it exists.
int bind_optional_directory(const std::string& source, const std::string& target, mode_t mode) {
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    if (::mkdir(target.c_str(), mode) != 0 && errno != EEXIST) return errno;
    return ::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0 ? 0 : errno;
}

}  // namespace

namespace {

// The nodes and folders get the modes asked for (0666 for /dev/null, 1777 for /dev/shm), whatever
// gitvisor-exec's own umask; restored on return.
class NoUmask {
public:
    NoUmask() : m_saved(::umask(0)) {}
    ~NoUmask() { ::umask(m_saved); }
    NoUmask(const NoUmask&) = delete;
    NoUmask& operator=(const NoUmask&) = delete;

private:
    mode_t m_saved;
};

}  // namespace

int mount_private_dev(const std::string& dev) {
    const NoUmask no_umask;
    // Not nodev: the nodes must work. noexec and nosuid, as systemd mounts it.
    if (::mount("tmpfs", dev.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME, "mode=0755,size=4m") !=
        0)
        return errno;
    for (const char* name : kDevices) {
        if (const int error = copy_device(std::string("/dev/") + name, dev + "/" + name); error != 0) {
            // A host without a terminal device still gets the others.
            if (error == ENOENT && name == std::string("tty")) continue;
            return error;
        }
    }
    // Pseudo terminals, shared memory and message queues: the host's, as in systemd.
    if (const int error = bind_optional_directory("/dev/pts", dev + "/pts", 0755); error != 0) return error;
    if (::access((dev + "/pts/ptmx").c_str(), F_OK) == 0 &&
        ::symlink("pts/ptmx", (dev + "/ptmx").c_str()) != 0)
        return errno;
    if (const int error = bind_optional_directory("/dev/shm", dev + "/shm", 01777); error != 0) return error;
    if (const int error = bind_optional_directory("/dev/mqueue", dev + "/mqueue", 0755); error != 0)
        return error;
    if (const int error = bind_optional_directory("/dev/hugepages", dev + "/hugepages", 0755); error != 0)
        return error;
    for (const auto& [name, target] :
         {std::pair{"fd", "/proc/self/fd"}, std::pair{"stdin", "/proc/self/fd/0"},
          std::pair{"stdout", "/proc/self/fd/1"}, std::pair{"stderr", "/proc/self/fd/2"}}) {
        if (::symlink(target, (dev + "/" + name).c_str()) != 0) return errno;
    }
    // syslog(3) writes to /dev/log: on Debian a link to journald's socket, kept as it is.
    char link[PATH_MAX];
    const ssize_t n = ::readlink("/dev/log", link, sizeof link - 1);
    if (n > 0) {
        link[n] = '\0';
        if (::symlink(link, (dev + "/log").c_str()) != 0) return errno;
    }
    return 0;
}

int mount_private_proc(const std::string& proc, ProtectProc protect, ProcSubset subset) {
    std::string options;
    if (protect != ProtectProc::Default) options = std::string("hidepid=") + to_string(protect);
    if (subset == ProcSubset::Pid) options += std::string(options.empty() ? "" : ",") + "subset=pid";
    // A new instance, as systemd mounts it: the options of a proc mount are its own since Linux 5.8.
    return ::mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, options.c_str()) == 0
               ? 0
               : errno;
}

}  // namespace gitvisor::exec
