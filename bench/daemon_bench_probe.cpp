#include "daemon_bench_probe.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "common/json_reader.h"

namespace gitvisor::bench {
namespace {

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// The value of "Key:   123 kB" lines in smaps_rollup.
uint64_t kib_field(const std::string& text, const std::string& key) {
    const size_t at = text.find("\n" + key + ":");
    if (at == std::string::npos) return 0;
    return std::strtoull(text.c_str() + at + key.size() + 2, nullptr, 10);
}

}  // namespace

double milliseconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

std::string read_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string out;
    char buffer[4096];
    while (true) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

std::vector<pid_t> cgroup_pids(const std::string& procs_file) {
    const std::string text = read_file(procs_file);
    std::vector<pid_t> pids;
    const char* p = text.c_str();
    while (*p) {
        char* end = nullptr;
        const long pid = std::strtol(p, &end, 10);
        if (end == p) break;
        pids.push_back(static_cast<pid_t>(pid));
        p = end;
    }
    return pids;
}

std::string process_name(pid_t pid) { return trimmed(read_file("/proc/" + std::to_string(pid) + "/comm")); }

std::string process_cmdline(pid_t pid) {
    std::string text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(text.begin(), text.end(), '\0', ' ');
    return text;
}

std::vector<pid_t> all_pids() {
    std::vector<pid_t> pids;
    DIR* dir = ::opendir("/proc");
    if (!dir) return pids;
    while (const dirent* entry = ::readdir(dir)) {
        char* end = nullptr;
        const long pid = std::strtol(entry->d_name, &end, 10);
        if (*end == '\0' && pid > 0) pids.push_back(static_cast<pid_t>(pid));
    }
    ::closedir(dir);
    return pids;
}

MemoryUse memory_of(pid_t pid) {
    const std::string text = "\n" + read_file("/proc/" + std::to_string(pid) + "/smaps_rollup");
    MemoryUse use;
    use.ok = text.find("\nRss:") != std::string::npos;
    use.rss_kib = kib_field(text, "Rss");
    use.pss_kib = kib_field(text, "Pss");
    use.private_kib = kib_field(text, "Private_Clean") + kib_field(text, "Private_Dirty");
    return use;
}

int64_t context_switches(pid_t pid) {
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    DIR* dir = ::opendir(tasks.c_str());
    if (!dir) return -1;
    int64_t total = 0;
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        const std::string text = "\n" + read_file(tasks + "/" + entry->d_name + "/status");
        for (const char* key : {"\nvoluntary_ctxt_switches:", "\nnonvoluntary_ctxt_switches:"}) {
            const size_t at = text.find(key);
            if (at != std::string::npos)
                total += std::strtoll(text.c_str() + at + std::strlen(key), nullptr, 10);
        }
    }
    ::closedir(dir);
    return total;
}

std::vector<int64_t> context_switches(const std::vector<pid_t>& pids) {
    std::vector<int64_t> counts;
    for (pid_t pid : pids) counts.push_back(context_switches(pid));
    return counts;
}

int64_t switches_between(const std::vector<int64_t>& before, const std::vector<int64_t>& after) {
    int64_t total = 0;
    for (size_t i = 0; i < before.size() && i < after.size(); ++i)
        if (before[i] >= 0 && after[i] >= 0) total += after[i] - before[i];
    return total;
}

UnitStatus read_unit_status(const std::string& status_file) {
    UnitStatus status;
    const Result<JsonValue> json = parse_json(read_file(status_file));
    if (!json || !json->is_object()) return status;
    const auto text = [&](const char* key) {
        const JsonValue* v = json->find(key);
        return v ? v->as_string() : std::string();
    };
    status.invocation = text("invocation");
    status.state = text("state");
    status.sub_state = text("sub_state");
    if (const JsonValue* v = json->find("main_pid")) status.main_pid = v->as_integer();
    status.ok = !status.state.empty();
    return status;
}

std::string unit_procs_file(const std::string& spec_file) {
    const Result<JsonValue> json = parse_json(read_file(spec_file));
    if (!json || !json->is_object()) return "";
    const JsonValue* procs = json->find("cgroup_procs");
    if (!procs || !procs->is_array() || procs->items().empty()) return "";
    return procs->items().front().as_string();
}

Machine describe_machine() {
    Machine m;
    m.cores = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
    std::istringstream cpuinfo(read_file("/proc/cpuinfo"));
    for (std::string line; std::getline(cpuinfo, line);) {
        if (!line.starts_with("model name")) continue;
        m.cpu_model = line.substr(line.find(':') + 2);
        break;
    }
    utsname uts{};
    if (::uname(&uts) == 0) m.kernel = std::string(uts.sysname) + " " + uts.release + " " + uts.machine;
    m.memory_gib = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
                   static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0 * 1024.0);

    if (::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
        m.cgroup_layout = "cgroup v2 (" + trimmed(read_file("/sys/fs/cgroup/cgroup.controllers")) + ")";
        return m;
    }
    // Hybrid or v1: one mount per controller group, and maybe a cgroup2 mount beside them.
    std::istringstream mounts(read_file("/proc/self/mounts"));
    std::string v1, v2;
    for (std::string line; std::getline(mounts, line);) {
        std::istringstream fields(line);
        std::string device, where, type;
        fields >> device >> where >> type;
        if (type == "cgroup") v1 += (v1.empty() ? "" : " ") + where.substr(where.rfind('/') + 1);
        if (type == "cgroup2") v2 = where;
    }
    if (v1.empty()) {
        m.cgroup_layout = v2.empty() ? "no cgroups mounted" : "cgroup2 at " + v2;
    } else {
        m.cgroup_layout = "hybrid cgroup v1 (" + v1 + ")" + (v2.empty() ? "" : " + cgroup2 at " + v2);
    }
    return m;
}

std::string filesystem_type(const std::string& path) {
    struct statfs fs {};
    if (::statfs(path.c_str(), &fs) != 0) return "unknown";
    switch (static_cast<unsigned long>(fs.f_type)) {
        case TMPFS_MAGIC:
            return "tmpfs";
        case EXT4_SUPER_MAGIC:
            return "ext4";
        case XFS_SUPER_MAGIC:
            return "xfs";
        case BTRFS_SUPER_MAGIC:
            return "btrfs";
        case OVERLAYFS_SUPER_MAGIC:
            return "overlay";
        default: {
            char hex[32];
            std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(fs.f_type));
            return hex;
        }
    }
}

std::string load_average() {
    const std::string text = read_file("/proc/loadavg");
    return text.substr(0, text.find(' '));
}

double percentile(std::vector<double> samples, double p) {
    if (samples.empty()) return 0;
    std::sort(samples.begin(), samples.end());
    const double rank = std::ceil(p / 100.0 * static_cast<double>(samples.size()));
    const size_t index = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(samples.size()))) - 1;
    return samples[index];
}

int free_tcp_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) throw std::runtime_error("cannot find a free TCP port on 127.0.0.1");
    return ntohs(address.sin_port);
}

}  // namespace gitvisor::bench
