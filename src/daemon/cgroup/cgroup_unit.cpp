// What is done to one unit's cgroup. A UnitCgroup is only a list of directories, so each operation looks
// at which files a directory offers (memory.max or memory.limit_in_bytes, cgroup.kill, cgroup.events)
// rather than at the layout: one code path serves v2, each v1 hierarchy and the hybrid unified directory.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <unordered_map>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <string_view>

#include "daemon/cgroup/cgroup_internal.h"

namespace gitvisor::daemon {

using namespace cgroup_detail;

namespace {

// kill_all() gives processes this long to go: long enough for SIGKILL to be delivered and the exit to
// run, short enough not to stall the daemon's loop.
constexpr int kKillAttempts = 50;
constexpr long kKillPauseNsec = 20 * 1000 * 1000;

// rmdir of `dir` after the cgroups below it. Returns the error text, empty on success or when `dir` is gone.
std::string remove_tree(const std::string& dir) {
    std::string first_error;
    for (const auto& child : subdirectories(dir)) {
        std::string error = remove_tree(child);
        if (first_error.empty()) first_error = error;
    }
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return first_error;
    int err = errno;
    std::string message = "cannot remove cgroup '" + dir + "': " + errno_text(err);
    if (err == EBUSY) {
        std::vector<pid_t> left;
        collect_pids(dir, left);
        if (!left.empty()) {
            message += " (" + std::to_string(left.size()) + (left.size() == 1 ? " process" : " processes") +
                       " left)";
        }
    }
    return first_error.empty() ? message : first_error;
}

}  // namespace

std::vector<std::string> UnitCgroup::procs_files() const {
    std::vector<std::string> files;
    for (const auto& dir : m_dirs) files.push_back(join_path(dir, "cgroup.procs"));
    return files;
}

namespace {

// The statistics files, in the order they are tried; which one answers depends on the hierarchy.
enum StatFileName { kMemoryCurrent, kMemoryUsage, kCpuStat, kCpuacctUsage, kPidsCurrent, kStatFiles };
constexpr const char* kStatFileNames[kStatFiles] = {"memory.current", "memory.usage_in_bytes", "cpu.stat",
                                                    "cpuacct.usage", "pids.current"};

// What each hierarchy offers, learned from the first unit read there: every unit directory under one parent
// (at one position of the unit's list of directories) has the same files, so /metrics of 1,000 units opens
// three files per unit instead of a dozen, each relative to a descriptor of the parent kept open (a short
// path walk). A file counts as absent only once another file of the same directory was read.
class StatFileMemo {
public:
    enum class Known : uint8_t { Unknown, Yes, No };
    struct Offer {
        std::array<Known, kStatFiles> known{};
        int parent_fd = -1;  // O_PATH; stale when the parent was made again (then full paths are used)
    };
    Offer get(const std::string& key, const std::string& parent) {
        std::lock_guard lock(m_mutex);
        Offer& offer = m_offers[key];
        if (offer.parent_fd < 0) offer.parent_fd = ::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        return offer;
    }
    void learn(const std::string& key, const std::array<Known, kStatFiles>& known) {
        std::lock_guard lock(m_mutex);
        m_offers[key].known = known;
    }

private:
    std::mutex m_mutex;
    std::unordered_map<std::string, Offer> m_offers;
};

StatFileMemo& stat_file_memo() {
    static StatFileMemo memo;
    return memo;
}

// A statistics file's text, read relative to its parent's descriptor when there is one.
std::optional<std::string> read_stat(const std::string& dir, int parent_fd, std::string_view leaf, StatFileName file) {
    int fd = -1;
    if (parent_fd >= 0) {
        std::string relative(leaf);
        relative += '/';
        relative += kStatFileNames[file];
        fd = ::openat(parent_fd, relative.c_str(), O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) fd = ::open(join_path(dir, kStatFileNames[file]).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text;
    char buf[512];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return text;
}

std::optional<uint64_t> leading_u64(const std::string& text) {
    if (text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
    return std::strtoull(text.c_str(), nullptr, 10);
}

}  // namespace

CgroupStats UnitCgroup::stats() const {
    using Known = StatFileMemo::Known;
    CgroupStats s;
    for (size_t i = 0; i < m_dirs.size(); ++i) {
        if (s.memory_bytes && s.cpu_usec && s.tasks) break;
        const std::string& dir = m_dirs[i];
        const size_t slash = dir.rfind('/');
        const std::string parent = slash == std::string::npos ? "." : dir.substr(0, slash);
        const std::string_view leaf = std::string_view(dir).substr(slash == std::string::npos ? 0 : slash + 1);
        // Units of one manager list their hierarchies in the same order, under one parent each.
        const std::string key = parent + "#" + std::to_string(i);
        const StatFileMemo::Offer offer = stat_file_memo().get(key, parent);
        std::array<Known, kStatFiles> known = offer.known;
        bool dir_read = false;  // some file of this directory was read: the others are truly absent
        // Reads `file` unless known absent; `parse` takes its text and says whether it held the value.
        const auto attempt = [&](StatFileName file, auto parse) {
            if (known[file] == Known::No) return;
            const std::optional<std::string> text = read_stat(dir, offer.parent_fd, leaf, file);
            if (text) dir_read = true;
            // A file once read stays known (a unit's directory may vanish between two reads).
            if (text && parse(*text)) {
                known[file] = Known::Yes;
            } else if (known[file] == Known::Unknown) {
                known[file] = Known::No;  // kept only once the directory is known to exist
            }
        };
        const auto into = [](std::optional<uint64_t>& out) {
            return [&out](const std::string& text) { return (out = leading_u64(text)).has_value(); };
        };
        if (!s.memory_bytes) attempt(kMemoryCurrent, into(s.memory_bytes));
        if (!s.memory_bytes) attempt(kMemoryUsage, into(s.memory_bytes));
        if (!s.cpu_usec)
            attempt(kCpuStat, [&](const std::string& text) { return (s.cpu_usec = keyed_u64(text, "usage_usec")).has_value(); });
        if (!s.cpu_usec)
            attempt(kCpuacctUsage, [&](const std::string& text) {
                if (auto nsec = leading_u64(text)) s.cpu_usec = *nsec / 1000;
                return s.cpu_usec.has_value();
            });
        if (!s.tasks) attempt(kPidsCurrent, into(s.tasks));
        if (known != offer.known && dir_read) stat_file_memo().learn(key, known);
    }
    return s;
}

std::vector<StatFile> UnitCgroup::open_stat_files() const {
    // Which files answer is what stats() learns (and remembers per hierarchy): read once, then open those.
    const CgroupStats found = stats();
    std::vector<StatFile> files;
    const auto open_first = [&](StatFile::Kind kind, std::initializer_list<const char*> names) {
        for (const std::string& dir : m_dirs) {
            for (const char* name : names) {
                const int fd = ::open(join_path(dir, name).c_str(), O_RDONLY | O_CLOEXEC);
                if (fd < 0) continue;
                // cpu.stat of a v1 cpu hierarchy has no usage_usec: only a file that gives the value will do.
                StatFile file{std::string_view(name) == "cpuacct.usage" ? StatFile::Kind::CpuacctNsec : kind, fd};
                if (read_stat_files({file})) {
                    files.push_back(file);
                    return;
                }
                ::close(fd);
            }
        }
    };
    if (found.memory_bytes) open_first(StatFile::Kind::MemoryBytes, {"memory.current", "memory.usage_in_bytes"});
    if (found.cpu_usec) open_first(StatFile::Kind::CpuStat, {"cpu.stat", "cpuacct.usage"});
    if (found.tasks) open_first(StatFile::Kind::Tasks, {"pids.current"});
    return files;
}

std::optional<CgroupStats> read_stat_files(const std::vector<StatFile>& files) {
    CgroupStats s;
    for (const StatFile& f : files) {
        char buffer[512];
        const ssize_t n = ::pread(f.fd, buffer, sizeof buffer - 1, 0);
        if (n <= 0) return std::nullopt;
        buffer[n] = '\0';
        const std::string text(buffer, static_cast<size_t>(n));
        std::optional<uint64_t> value = f.kind == StatFile::Kind::CpuStat ? keyed_u64(text, "usage_usec") : leading_u64(text);
        if (!value) return std::nullopt;
        switch (f.kind) {
            case StatFile::Kind::MemoryBytes: s.memory_bytes = value; break;
            case StatFile::Kind::CpuStat: s.cpu_usec = value; break;
            case StatFile::Kind::CpuacctNsec: s.cpu_usec = *value / 1000; break;
            case StatFile::Kind::Tasks: s.tasks = value; break;
        }
    }
    return s;
}

CgroupStatsCache::~CgroupStatsCache() {
    for (auto& [unit, open] : m_units) close_all(open);
}

void CgroupStatsCache::close_all(Open& open) {
    for (const StatFile& f : open.files) ::close(f.fd);
    open.files.clear();
}

CgroupStats CgroupStatsCache::read(const UnitCgroup& cgroup, const std::string& unit, int64_t generation) {
    std::lock_guard lock(m_mutex);
    Open& open = m_units[unit];
    if (open.generation == generation && !open.files.empty())
        if (std::optional<CgroupStats> s = read_stat_files(open.files)) return *s;
    // First read, a new gitvisor-exec (perhaps a new cgroup), or a file that no longer reads: open again.
    close_all(open);
    open.generation = generation;
    open.files = cgroup.open_stat_files();
    if (std::optional<CgroupStats> s = read_stat_files(open.files)) return *s;
    close_all(open);
    return cgroup.stats();
}

void CgroupStatsCache::retain(const std::vector<std::string>& units) {
    std::lock_guard lock(m_mutex);
    for (auto it = m_units.begin(); it != m_units.end();) {
        if (std::binary_search(units.begin(), units.end(), it->first)) {
            ++it;
        } else {
            close_all(it->second);
            it = m_units.erase(it);
        }
    }
}

std::vector<pid_t> UnitCgroup::pids() const {
    std::vector<pid_t> all;
    for (const auto& dir : m_dirs) collect_pids(dir, all);
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    return all;
}

bool UnitCgroup::populated() const {
    for (const auto& dir : m_dirs) {
        // cgroup.events counts the whole subtree and ignores zombies; v1 has only the process lists.
        if (auto populated = read_keyed_u64(join_path(dir, "cgroup.events"), "populated")) {
            if (*populated != 0) return true;
            continue;
        }
        std::vector<pid_t> found;
        collect_pids(dir, found);
        if (!found.empty()) return true;
    }
    return false;
}

bool UnitCgroup::kill_all(int signal) const {
    for (int attempt = 0; attempt < kKillAttempts; ++attempt) {
        // cgroup.kill reaches every process at once, forks in flight included; the per-pid loop below
        // catches processes of v1 hierarchies that never joined the cgroup2 directory.
        if (signal == SIGKILL) {
            for (const auto& dir : m_dirs) {
                const std::string kill_file = join_path(dir, "cgroup.kill");
                if (path_exists(kill_file)) (void)write_text_errno(kill_file, "1");
            }
        }
        std::vector<pid_t> left = pids();
        if (left.empty()) return true;
        for (pid_t pid : left) ::kill(pid, signal);
        struct timespec pause = {0, kKillPauseNsec};
        ::nanosleep(&pause, nullptr);
    }
    return pids().empty();
}

Result<bool> UnitCgroup::remove() const {
    std::string first_error;
    for (const auto& dir : m_dirs) {
        std::string error = remove_tree(dir);
        if (first_error.empty()) first_error = error;
    }
    if (!first_error.empty()) return Result<bool>::fail(first_error);
    return Result<bool>::ok(true);
}

Result<bool> UnitCgroup::set_limits(const CgroupLimits& limits) const {
    std::vector<LimitWrite> writes = v1_limit_writes(limits);
    for (auto& w : v2_limit_writes(limits)) writes.push_back(std::move(w));

    // 1. Plan: every file some directory offers.
    std::vector<std::pair<std::string, const LimitWrite*>> plan;
    for (const auto& w : writes) {
        for (const auto& dir : m_dirs) {
            std::string file = join_path(dir, w.file);
            if (path_exists(file)) plan.emplace_back(file, &w);
        }
    }
    // A limit the unit asks for must find a file, or it would be silently ignored (controller not
    // mounted, or not enabled for the gitvisor parent).
    auto same_directive = [](const LimitWrite& a, const LimitWrite& b) {
        return std::string_view(a.directive) == b.directive;
    };
    for (const auto& w : writes) {
        if (!w.requested || std::any_of(plan.begin(), plan.end(),
                                        [&](const auto& p) { return same_directive(*p.second, w); })) {
            continue;
        }
        std::vector<std::string> files;
        for (const auto& other : writes) {
            if (same_directive(other, w) &&
                std::find(files.begin(), files.end(), other.file) == files.end()) {
                files.push_back(other.file);
            }
        }
        std::string listed;
        for (const auto& f : files) listed += (listed.empty() ? "" : " or ") + f;
        return Result<bool>::fail("cannot set " + std::string(w.directive) + " for cgroup '" +
                                  m_display_path + "': the " + w.controller +
                                  " controller is not available (no " + listed + ")");
    }

    // 2. Write, in the order of the lists (cpu.cfs_period_us before cpu.cfs_quota_us).
    for (const auto& [file, w] : plan) {
        if (auto written = write_text(file, w->value); !written) return written;
    }
    return Result<bool>::ok(true);
}

}  // namespace gitvisor::daemon
