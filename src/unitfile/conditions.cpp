#include "unitfile/conditions.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "unitfile/values.h"

extern char** environ;

namespace gitvisor::unitfile {
namespace {

// "0123...": 32 hex digits once dashes are removed, lower case; "" when `text` is not a machine ID.
std::string as_machine_id(const std::string& text) {
    std::string id;
    for (const char c : text) {
        if (c == '-') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
        id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return id.size() == 32 ? id : "";
}


bool path_exists_glob(const std::string& pattern) {
    glob_t found{};
    const int rc = glob(pattern.c_str(), GLOB_NOSORT | GLOB_BRACE, nullptr, &found);
    globfree(&found);
    return rc == 0;
}

bool is_mount_point(const std::string& path) {
    struct statx s {};
    if (statx(AT_FDCWD, path.c_str(), 0, STATX_BASIC_STATS, &s) != 0) return false;
    if (s.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) return (s.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    // Older kernels: a different device than the parent's, or the root.
    struct stat own {}, parent {};
    if (stat(path.c_str(), &own) != 0 || stat((path + "/..").c_str(), &parent) != 0) return false;
    return own.st_dev != parent.st_dev || own.st_ino == parent.st_ino;
}

bool directory_not_empty(const std::string& path) {
    DIR* dir = opendir(path.c_str());
    if (!dir) return false;
    bool found = false;
    while (const dirent* e = readdir(dir)) {
        if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") {
            found = true;
            break;
        }
    }
    closedir(dir);
    return found;
}

// "root", "0" or "@system" (a system user: uid below 1000, as Debian's SYS_UID_MAX) against gitvisord's user.
bool user_matches(const std::string& value) {
    const uid_t uid = getuid();
    if (value == "@system") return uid < 1000;
    if (!value.empty() && std::all_of(value.begin(), value.end(), ::isdigit)) return std::to_string(uid) == value;
    const passwd* pw = getpwnam(value.c_str());
    return pw && pw->pw_uid == uid;
}

bool group_matches(const std::string& value) {
    gid_t wanted = 0;
    if (!value.empty() && std::all_of(value.begin(), value.end(), ::isdigit)) {
        wanted = static_cast<gid_t>(std::strtoul(value.c_str(), nullptr, 10));
    } else if (const group* gr = getgrnam(value.c_str())) {
        wanted = gr->gr_gid;
    } else {
        return false;
    }
    if (getgid() == wanted || getegid() == wanted) return true;
    std::vector<gid_t> groups(static_cast<size_t>(std::max(getgroups(0, nullptr), 0)));
    const int n = getgroups(static_cast<int>(groups.size()), groups.data());
    return std::find(groups.begin(), groups.begin() + std::max(n, 0), wanted) != groups.begin() + std::max(n, 0);
}

bool environment_matches(const std::string& value) {
    if (value.find('=') == std::string::npos) return std::getenv(value.c_str()) != nullptr;
    for (char** e = environ; e && *e; ++e)
        if (value == *e) return true;
    return false;
}

// "quiet" matches the word quiet and quiet=...; "console=ttyS0" only that word.
bool kernel_command_line_matches(const std::string& value) {
    std::ifstream in("/proc/cmdline");
    std::string word;
    const bool with_value = value.find('=') != std::string::npos;
    while (in >> word) {
        if (word == value) return true;
        if (!with_value && word.size() > value.size() && word.compare(0, value.size(), value) == 0 &&
            word[value.size()] == '=')
            return true;
    }
    return false;
}

// systemd's architecture names (systemd-analyze architectures) for the machines Debian builds for.
std::string native_architecture() {
    utsname u{};
    uname(&u);
    const std::string m = u.machine;
    if (m == "x86_64") return "x86-64";
    if (m.size() == 4 && m[0] == 'i' && m.substr(2) == "86") return "x86";
    if (m == "aarch64") return "arm64";
    if (m.rfind("arm", 0) == 0) return "arm";
    if (m == "ppc64le") return "ppc64-le";
    if (m == "mips64") return "mips64-le";
    return m;  // riscv64, s390x, loongarch64, ... are spelt alike
}

bool capability_in_bounding_set(const std::string& value) {
    const int number = capability_number(value);
    if (number < 0) return false;
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("CapBnd:", 0) != 0) continue;
        const uint64_t set = std::strtoull(line.c_str() + 7, nullptr, 16);
        return (set >> number) & 1u;
    }
    return false;
}

// "[op]N" with op one of < <= = != >= > (default =) against `actual`; nullopt when the text is not such.
std::optional<bool> compare(const std::string& value, uint64_t actual, bool size) {
    static constexpr std::array<std::string_view, 6> kOps = {"<=", ">=", "!=", "<", ">", "="};
    std::string_view rest = value;
    std::string_view op = "=";
    for (std::string_view o : kOps) {
        if (rest.starts_with(o)) {
            op = o;
            rest.remove_prefix(o.size());
            break;
        }
    }
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    uint64_t wanted = 0;
    if (size) {
        const Result<Limit> limit = parse_size(rest, false, true);
        if (!limit || limit->kind != Limit::Kind::Value) return std::nullopt;
        wanted = limit->value;
    } else {
        const Result<int64_t> n = parse_integer(rest, 0, INT64_MAX);
        if (!n) return std::nullopt;
        wanted = static_cast<uint64_t>(*n);
    }
    if (op == "<=") return actual <= wanted;
    if (op == ">=") return actual >= wanted;
    if (op == "!=") return actual != wanted;
    if (op == "<") return actual < wanted;
    if (op == ">") return actual > wanted;
    return actual == wanted;
}

uint64_t usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return static_cast<uint64_t>(std::max(sysconf(_SC_NPROCESSORS_ONLN), 1L));
    return static_cast<uint64_t>(CPU_COUNT(&set));
}

uint64_t physical_memory_bytes() {
    return static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// The kinds checked when a unit starts, Condition and Assert alike (ConditionHost= is the deploy's).
constexpr std::array<std::string_view, 17> kStartKinds = {
    "PathExists", "PathExistsGlob", "PathIsDirectory", "PathIsSymbolicLink", "PathIsMountPoint", "PathIsReadWrite",
    "DirectoryNotEmpty", "FileNotEmpty", "FileIsExecutable", "User", "Group", "Environment", "KernelCommandLine",
    "Architecture", "Capability", "CPUs", "Memory",
};

}  // namespace

bool conditions_hold(const std::vector<Condition>& conditions, const std::function<bool(const std::string&)>& test) {
    bool any_trigger = false;
    bool trigger_held = false;
    for (const Condition& c : conditions) {
        const bool holds = test(c.value) != c.negate;
        if (c.trigger) {
            any_trigger = true;
            trigger_held = trigger_held || holds;
        } else if (!holds) {
            return false;
        }
    }
    return !any_trigger || trigger_held;
}

bool host_condition_holds(const Unit& unit, const std::string& hostname, const std::string& machine_id) {
    const auto* conditions = unit.get<std::vector<Condition>>("Unit", "ConditionHost");
    if (!conditions) return true;
    const std::string own_id = as_machine_id(machine_id);
    return conditions_hold(*conditions, [&](const std::string& value) {
        const std::string id = as_machine_id(value);
        if (!id.empty() && id == own_id) return true;
        return fnmatch(value.c_str(), hostname.c_str(), FNM_CASEFOLD) == 0;
    });
}

std::optional<bool> test_condition(std::string_view kind, const std::string& value) {
    struct stat st {};
    if (kind == "PathExists") return access(value.c_str(), F_OK) == 0;
    if (kind == "PathExistsGlob") return path_exists_glob(value);
    if (kind == "PathIsDirectory") return stat(value.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (kind == "PathIsSymbolicLink") return lstat(value.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
    if (kind == "PathIsMountPoint") return is_mount_point(value);
    if (kind == "PathIsReadWrite") {
        struct statvfs fs {};
        return statvfs(value.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) == 0;
    }
    if (kind == "DirectoryNotEmpty") return directory_not_empty(value);
    if (kind == "FileNotEmpty") return stat(value.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
    if (kind == "FileIsExecutable")
        return stat(value.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
    if (kind == "User") return user_matches(value);
    if (kind == "Group") return group_matches(value);
    if (kind == "Environment") return environment_matches(value);
    if (kind == "KernelCommandLine") return kernel_command_line_matches(value);
    if (kind == "Architecture") return value == "native" || value == native_architecture();
    if (kind == "Capability") return capability_in_bounding_set(value);
    // An expression that does not parse never holds (systemd logs it and fails the condition too).
    if (kind == "CPUs") return compare(value, usable_cpus(), false).value_or(false);
    if (kind == "Memory") return compare(value, physical_memory_bytes(), true).value_or(false);
    return std::nullopt;
}

std::string unmet_start_condition(const Unit& unit, std::string_view prefix) {
    const auto section = unit.sections.find("Unit");
    if (section == unit.sections.end()) return "";
    std::vector<std::string> triggers;  // the '|' entries tested, none of which held so far
    bool any_trigger_held = false;
    for (const auto& [key, setting] : section->second) {
        if (!std::string_view(key).starts_with(prefix)) continue;
        const std::string_view kind = std::string_view(key).substr(prefix.size());
        const auto* list = std::get_if<std::vector<Condition>>(&setting.value);
        if (!list) continue;
        if (std::find(kStartKinds.begin(), kStartKinds.end(), kind) == kStartKinds.end()) continue;
        for (const Condition& c : *list) {
            const bool holds = test_condition(kind, c.value).value_or(true) != c.negate;
            const std::string text = key + "=" + (c.trigger ? "|" : "") + (c.negate ? "!" : "") + c.value;
            if (c.trigger) {
                any_trigger_held = any_trigger_held || holds;
                triggers.push_back(text);
            } else if (!holds) {
                return text + (prefix == "Assert" ? " failed" : " was not met");
            }
        }
    }
    if (triggers.empty() || any_trigger_held) return "";
    std::string all;
    for (const std::string& t : triggers) all += (all.empty() ? "" : ", ") + t;
    return "none of " + all + (prefix == "Assert" ? " held" : " was met");
}

}  // namespace gitvisor::unitfile
