#include "exec/protect.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace gitvisor::exec {
namespace {

// The next component of `path` from `pos` ("" at the end); moves `pos` past it.
std::string_view next_component(std::string_view path, size_t& pos) {
    while (pos < path.size() && path[pos] == '/') ++pos;
    const size_t start = pos;
    while (pos < path.size() && path[pos] != '/') ++pos;
    return path.substr(start, pos - start);
}

// A path as written after its '-' and '+' prefixes; `optional` is set by '-'.
std::string strip_prefixes(const std::string& written, bool* optional) {
    size_t start = 0;
    *optional = false;
    while (start < written.size() && (written[start] == '-' || written[start] == '+')) {
        if (written[start] == '-') *optional = true;
        ++start;
    }
    return written.substr(start);
}

std::string resolve_real_path(const std::string& path) {
    char buffer[PATH_MAX];
    return ::realpath(path.c_str(), buffer) != nullptr ? std::string(buffer) : std::string();
}

Result<bool> fail_with(int* error_number, const std::string& what) {
    *error_number = errno;
    return Result<bool>::fail(what + ": " + std::strerror(errno));
}

// Mount points from /proc/self/mountinfo (field 5, octal escapes decoded), in mount order.
std::vector<std::string> mount_points() {
    std::vector<std::string> out;
    UniqueFd fd(::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
    if (!fd) return out;
    std::string text;
    char buffer[8192];
    ssize_t n = 0;
    while ((n = ::read(fd.get(), buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
    size_t line_start = 0;
    while (line_start < text.size()) {
        size_t line_end = text.find('\n', line_start);
        if (line_end == std::string::npos) line_end = text.size();
        const std::string_view line(text.data() + line_start, line_end - line_start);
        line_start = line_end + 1;
        size_t pos = 0;
        for (int field = 0; field < 4 && pos != std::string_view::npos; ++field) {
            pos = line.find(' ', pos);
            if (pos != std::string_view::npos) ++pos;
        }
        if (pos == std::string_view::npos) continue;
        const std::string_view raw = line.substr(pos, line.find(' ', pos) - pos);
        std::string point;
        const auto octal = [&](size_t k) { return raw[k] >= '0' && raw[k] <= '7'; };
        for (size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '\\' && i + 3 < raw.size() && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
                point +=
                    static_cast<char>((raw[i + 1] - '0') * 64 + (raw[i + 2] - '0') * 8 + (raw[i + 3] - '0'));
                i += 3;
            } else {
                point += raw[i];
            }
        }
        out.push_back(std::move(point));
    }
    return out;
}

// Makes the mount at `point` read-only, keeping its other per-mount flags (a remount sets them all).
int remount_read_only(const std::string& point, unsigned long extra) {
    struct statvfs st {};
    if (::statvfs(point.c_str(), &st) != 0) return errno;
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | extra;
    if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    return ::mount(nullptr, point.c_str(), nullptr, flags, nullptr) == 0 ? 0 : errno;
}

const char* verb_of(MountMode mode) {
    switch (mode) {
        case MountMode::Inaccessible:
            return "make inaccessible";
        case MountMode::ReadOnly:
            return "make read-only";
        case MountMode::Tmpfs:
            return "mount a tmpfs on";
        default:
            return "bind";
    }
}

}  // namespace

int compare_paths(const std::string& a, const std::string& b) {
    size_t i = 0;
    size_t j = 0;
    while (true) {
        const std::string_view x = next_component(a, i);
        const std::string_view y = next_component(b, j);
        if (x.empty() || y.empty()) return x.empty() == y.empty() ? 0 : (x.empty() ? -1 : 1);
        if (const int c = x.compare(y); c != 0) return c < 0 ? -1 : 1;
    }
}

bool path_is_under(const std::string& path, const std::string& prefix) {
    size_t i = 0;
    size_t j = 0;
    while (true) {
        const std::string_view want = next_component(prefix, j);
        if (want.empty()) return true;
        if (next_component(path, i) != want) return false;
    }
}

bool wants_protection(const Spec& spec) {
    return spec.protect_system != ProtectSystem::No || spec.protect_home != ProtectHome::No ||
           !spec.read_only_paths.empty() || !spec.read_write_paths.empty() ||
           !spec.inaccessible_paths.empty() || spec.private_devices || spec.protect_kernel_tunables ||
           spec.protect_kernel_modules || spec.protect_kernel_logs || spec.protect_control_groups ||
           spec.protect_proc != ProtectProc::Default || spec.proc_subset != ProcSubset::All;
}

std::vector<MountEntry> protection_entries(const Spec& spec, const std::vector<std::string>& writable) {
    std::vector<MountEntry> out;
    const auto add = [&](const std::string& path, MountMode mode, bool ignore_missing) {
        out.push_back(MountEntry{path, mode, ignore_missing});
    };
    // systemd's protect_system_*_table and protect_home_*_table.
    switch (spec.protect_system) {
        case ProtectSystem::Strict:
            add("/", MountMode::ReadOnly, false);
            for (const char* path : {"/proc", "/sys", "/dev"}) add(path, MountMode::ReadWriteImplicit, false);
            for (const char* path : {"/home", "/run/user", "/root"})
                add(path, MountMode::ReadWriteImplicit, true);
            break;
        case ProtectSystem::Full:
            add("/etc", MountMode::ReadOnly, false);
            [[fallthrough]];
        case ProtectSystem::Yes:
            add("/usr", MountMode::ReadOnly, false);
            add("/boot", MountMode::ReadOnly, true);
            add("/efi", MountMode::ReadOnly, true);
            break;
        case ProtectSystem::No:
            break;
    }
    const MountMode home = spec.protect_home == ProtectHome::Yes        ? MountMode::Inaccessible
                           : spec.protect_home == ProtectHome::ReadOnly ? MountMode::ReadOnly
                                                                        : MountMode::Tmpfs;
    if (spec.protect_home != ProtectHome::No) {
        for (const char* path : {"/home", "/run/user", "/root"}) add(path, home, true);
    }
    // systemd's protect_kernel_tunables_*_table, protect_kernel_modules_table, protect_kernel_logs_*_table
    // and ProtectControlGroups='s one path. Each may be missing: a kernel without ACPI has no /proc/acpi.
    if (spec.protect_kernel_tunables) {
        for (const char* path : {"/proc/acpi", "/proc/apm", "/proc/asound", "/proc/bus", "/proc/fs",
                                 "/proc/irq", "/proc/latency_stats", "/proc/mtrr", "/proc/scsi", "/proc/sys",
                                 "/proc/sysrq-trigger", "/proc/timer_stats", "/sys"})
            add(path, MountMode::ReadOnly, true);
        for (const char* path : {"/proc/kallsyms", "/proc/kcore"}) add(path, MountMode::Inaccessible, true);
    }
    if (spec.protect_kernel_modules) {
        for (const char* path : {"/lib/modules", "/usr/lib/modules"})
            add(path, MountMode::Inaccessible, true);
    }
    if (spec.protect_kernel_logs) {
        for (const char* path : {"/proc/kmsg", "/dev/kmsg"}) add(path, MountMode::Inaccessible, true);
    }
    if (spec.protect_control_groups) add("/sys/fs/cgroup", MountMode::ReadOnly, true);
    for (const auto& [list, mode] : {std::pair{&spec.read_only_paths, MountMode::ReadOnly},
                                     std::pair{&spec.read_write_paths, MountMode::ReadWrite},
                                     std::pair{&spec.inaccessible_paths, MountMode::Inaccessible}}) {
        for (const std::string& written : *list) {
            bool optional = false;
            std::string path = strip_prefixes(written, &optional);
            add(path, mode, optional);
        }
    }
    for (const std::string& path : writable) add(path, MountMode::ReadWrite, true);
    return out;
}

Result<std::vector<MountEntry>> plan_mounts(std::vector<MountEntry> entries,
                                            const std::function<std::string(const std::string&)>& resolve) {
    std::vector<MountEntry> resolved;
    for (MountEntry& entry : entries) {
        std::string real = resolve(entry.path);
        if (real.empty()) {
            if (entry.ignore_missing) continue;
            return Result<std::vector<MountEntry>>::fail("'" + entry.path + "' does not exist");
        }
        entry.path = std::move(real);
        resolved.push_back(std::move(entry));
    }
    std::stable_sort(resolved.begin(), resolved.end(), [](const MountEntry& a, const MountEntry& b) {
        const int c = compare_paths(a.path, b.path);
        return c != 0 ? c < 0 : static_cast<int>(a.mode) < static_cast<int>(b.mode);
    });
    std::vector<MountEntry> out;
    const std::string* hidden = nullptr;  // the last inaccessible path
    std::string previous;                 // the path of the entry before, kept or not
    for (MountEntry& entry : resolved) {
        // A weaker duplicate, even when the stronger one was dropped as redundant (ProtectSystem=strict's
        // /sys under ProtectKernelTunables='s read-only /sys).
        const bool duplicate = !previous.empty() && compare_paths(previous, entry.path) == 0;
        previous = entry.path;
        if (duplicate) continue;
        if (hidden != nullptr && path_is_under(entry.path, *hidden)) continue;          // cannot be reached
        if (entry.mode == MountMode::ReadOnly || entry.mode == MountMode::ReadWrite ||
            entry.mode == MountMode::ReadWriteImplicit) {
            const auto parent = std::find_if(out.rbegin(), out.rend(), [&](const MountEntry& p) {
                return path_is_under(entry.path, p.path);
            });
            if (parent != out.rend() && parent->mode == entry.mode) continue;  // nothing to change
        }
        out.push_back(std::move(entry));
        hidden = out.back().mode == MountMode::Inaccessible ? &out.back().path : nullptr;
    }
    return Result<std::vector<MountEntry>>::ok(std::move(out));
}

Result<UniqueFd> enter_protected_namespace(int* error_number) {
    UniqueFd left(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!left || ::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        *error_number = errno;
        return Result<UniqueFd>::fail(std::string("cannot make a mount namespace: ") + std::strerror(errno));
    }
    return Result<UniqueFd>::ok(std::move(left));
}

Result<bool> apply_protection(const Spec& spec, const std::vector<std::string>& writable,
                              const std::string& staging, int* error_number) {
    auto planned = plan_mounts(protection_entries(spec, writable), resolve_real_path);
    if (!planned) {
        *error_number = ENOENT;
        return Result<bool>::fail("cannot protect the file system: " + planned.error());
    }
    const std::vector<MountEntry>& entries = *planned;

    // 2. The staging tmpfs: the inaccessible nodes, and the directory the copy of the tree is bound on.
    if (::mount("tmpfs", staging.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=64k") !=
        0)
        return fail_with(error_number, "cannot mount a tmpfs on '" + staging + "'");
    const std::string nodes = staging + "/inaccessible";
    const std::string root = staging + "/root";
    if (::mkdir(nodes.c_str(), 0755) != 0 || ::mkdir(root.c_str(), 0755) != 0)
        return fail_with(error_number, "cannot prepare '" + staging + "'");
    const std::string node_dir = nodes + "/dir";
    const std::string node_reg = nodes + "/reg";
    if (::mkdir(node_dir.c_str(), 0) != 0 || ::mknod(node_reg.c_str(), S_IFREG, 0) != 0)
        return fail_with(error_number, "cannot prepare '" + staging + "'");
    // Other node types where they can be made; a regular file stands in for the rest.
    for (const auto& [name, type] : {std::pair{"fifo", S_IFIFO}, std::pair{"sock", S_IFSOCK},
                                     std::pair{"chr", S_IFCHR}, std::pair{"blk", S_IFBLK}}) {
        ::mknod((nodes + "/" + name).c_str(), type, makedev(0, 0));
    }
    if (::mount("/", root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        return fail_with(error_number, "cannot bind '/' on '" + root + "'");
    if (spec.private_devices) {
        if (const int error = mount_private_dev(root + "/dev"); error != 0) {
            errno = error;
            return fail_with(error_number, "cannot make a private /dev");
        }
    }
    if (spec.protect_proc != ProtectProc::Default || spec.proc_subset != ProcSubset::All) {
        if (const int error = mount_private_proc(root + "/proc", spec.protect_proc, spec.proc_subset);
            error != 0) {
            errno = error;
            return fail_with(error_number, "cannot mount /proc with ProtectProc= and ProcSubset=");
        }
    }

    const auto in_copy = [&](const std::string& path) { return path == "/" ? root : root + path; };
    std::vector<bool> mounted(entries.size(), false);
    for (size_t i = 0; i < entries.size(); ++i) {
        const MountEntry& entry = entries[i];
        const std::string target = in_copy(entry.path);
        struct stat st {};
        if (::lstat(target.c_str(), &st) != 0) {
            // Gone in the copy: under a tmpfs of ProtectHome=, say.
            if (entry.ignore_missing && errno == ENOENT) continue;
            return fail_with(error_number,
                             std::string("cannot ") + verb_of(entry.mode) + " '" + entry.path + "'");
        }
        int made = 0;
        switch (entry.mode) {
            case MountMode::Inaccessible: {
                const auto node = [&]() -> std::string {
                    const char* name = S_ISDIR(st.st_mode)    ? "dir"
                                       : S_ISFIFO(st.st_mode) ? "fifo"
                                       : S_ISSOCK(st.st_mode) ? "sock"
                                       : S_ISCHR(st.st_mode)  ? "chr"
                                       : S_ISBLK(st.st_mode)  ? "blk"
                                                              : "reg";
                    const std::string path = nodes + "/" + name;
                    return ::access(path.c_str(), F_OK) == 0 || errno != ENOENT ? path : node_reg;
                }();
                made = ::mount(node.c_str(), target.c_str(), nullptr, MS_BIND, nullptr);
                break;
            }
            case MountMode::Tmpfs:
                made = ::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
                               "mode=0755");
                break;
            default:
                // A fresh mount even where there is one already: its flags are ours to change.
                if (entry.path != "/")
                    made = ::mount(target.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr);
                break;
        }
        if (made != 0)
            return fail_with(error_number,
                             std::string("cannot ") + verb_of(entry.mode) + " '" + entry.path + "'");
        mounted[i] = true;
    }

    // 3. Read-only, with what lies below, except where a deeper entry decides.
    const std::vector<std::string> points = mount_points();
    for (size_t i = 0; i < entries.size(); ++i) {
        const MountEntry& entry = entries[i];
        if (!mounted[i]) continue;
        const std::string target = in_copy(entry.path);
        if (entry.mode == MountMode::Inaccessible) {
            if (const int error = remount_read_only(target, MS_NOSUID | MS_NODEV | MS_NOEXEC); error != 0) {
                errno = error;
                return fail_with(error_number, "cannot make '" + entry.path + "' inaccessible");
            }
            continue;
        }
        if (entry.mode != MountMode::ReadOnly) continue;
        for (const std::string& point : points) {
            if (!path_is_under(point, target)) continue;
            const bool deeper_entry_decides =
                std::any_of(entries.begin(), entries.end(), [&](const MountEntry& other) {
                    return &other != &entry && path_is_under(other.path, entry.path) &&
                           compare_paths(other.path, entry.path) != 0 &&
                           path_is_under(point, in_copy(other.path));
                });
            if (deeper_entry_decides) continue;
            if (const int error = remount_read_only(point, 0); error != 0 && error != ENOENT) {
                errno = error;
                return fail_with(error_number, "cannot make '" + entry.path + "' read-only");
            }
        }
    }

    // 4. The copy becomes the root; the staging tmpfs (copied along) goes from it.
    if (::chdir(root.c_str()) != 0 || ::mount(root.c_str(), "/", nullptr, MS_MOVE, nullptr) != 0 ||
        ::chroot(".") != 0 || ::chdir("/") != 0)
        return fail_with(error_number, "cannot make the protected tree the root");
    ::umount2(staging.c_str(), MNT_DETACH);
    return Result<bool>::ok(true);
}

}  // namespace gitvisor::exec
