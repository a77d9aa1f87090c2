// The hybrid (and pure v1) layout: one hierarchy per controller group under <root>/<controllers>, plus
// the cgroup2 mount at <root>/unified when present. A unit gets a directory in each hierarchy gitvisor
// uses; co-mounted controllers ("cpu,cpuacct", reached also through the symlinks cpu and cpuacct) share one.

#include <algorithm>

#include "daemon/cgroup/cgroup_internal.h"

namespace gitvisor::daemon::cgroup_detail {
namespace {

const char* const kWantedControllers[] = {"memory", "pids", "cpu", "cpuacct"};

struct Hierarchy {
    std::string name;  // "memory", "cpu,cpuacct", "unified"
    std::string own;   // gitvisord's cgroup in it
    std::string path;  // that cgroup as /proc/self/cgroup shows it
};

std::string joined(const std::vector<std::string>& items, const char* separator) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
    return out;
}

}  // namespace

Detection detect_hybrid(const std::string& root, const std::vector<ProcCgroupEntry>& entries,
                        const std::string& parent_name) {
    // 1. The hierarchy of each controller we want, once per hierarchy: /proc/self/cgroup has one line
    //    per hierarchy, naming every controller mounted in it.
    std::vector<Hierarchy> found;
    std::vector<std::string> used_ids;
    std::vector<std::string> missing;
    for (const char* want : kWantedControllers) {
        auto entry = std::find_if(entries.begin(), entries.end(), [&](const ProcCgroupEntry& e) {
            return std::find(e.controllers.begin(), e.controllers.end(), want) != e.controllers.end();
        });
        if (entry == entries.end()) {
            missing.push_back(want);
            continue;
        }
        if (std::find(used_ids.begin(), used_ids.end(), entry->id) != used_ids.end()) continue;
        // The mount is named after all its controllers ("cpu,cpuacct"), or after this one alone.
        std::string name = joined(entry->controllers, ",");
        if (!is_directory(join_path(root, name))) name = want;
        const std::string own = join_path(join_path(root, name), entry->path);
        if (!path_exists(join_path(own, "cgroup.procs"))) {
            missing.push_back(want);
            continue;
        }
        used_ids.push_back(entry->id);
        found.push_back({name, own, entry->path});
    }
    if (found.empty()) {
        return none("no cgroup v1 hierarchy for memory, pids or cpu is mounted under '" + root + "'");
    }

    // 2. The cgroup2 mount, for cgroup.kill and cgroup.events.
    Detection d;
    d.layout = CgroupLayout::Hybrid;
    for (const auto& e : entries) {
        if (e.id != "0" || !e.controllers.empty()) continue;
        const std::string own = join_path(join_path(root, "unified"), e.path);
        if (path_exists(join_path(own, "cgroup.procs"))) {
            found.push_back({"unified", own, e.path});
            d.unified_in_hybrid = true;
        }
    }

    // 3. The parent in each, made now so a permission problem shows at start-up (checked everywhere
    //    first, so a refusal leaves nothing behind).
    for (const auto& h : found) {
        if (auto writable = check_writable(h.own); !writable) return none(writable.error());
    }
    for (const auto& h : found) {
        const std::string parent = join_path(h.own, parent_name);
        if (auto made = make_directory(parent); !made) return none(made.error());
        d.parents.push_back(parent);
        d.names.push_back(h.name);
    }
    // Shown as the memory hierarchy's path (the first found), where limits and usage live.
    d.display_parent = join_path(found.front().path, parent_name);
    if (!missing.empty()) d.reason = "no usable hierarchy for " + joined(missing, ", ");
    return d;
}

std::vector<LimitWrite> v1_limit_writes(const CgroupLimits& l) {
    auto number_or = [](const std::optional<uint64_t>& v, const char* unset) {
        return v ? std::to_string(*v) : std::string(unset);
    };
    std::string quota = l.cpu_quota_usec ? std::to_string(cpu_quota_per_period(*l.cpu_quota_usec)) : "-1";
    // cpu.shares is 1024 for the default weight 100; the kernel takes 2..262144.
    uint64_t shares = l.cpu_weight.value_or(100) * 1024 / 100;
    shares = std::clamp<uint64_t>(shares, 2, 262144);
    return {
        {"MemoryMax=", "memory", "memory.limit_in_bytes", number_or(l.memory_max, "-1"),
         l.memory_max.has_value()},
        {"MemoryHigh=", "memory", "memory.soft_limit_in_bytes", number_or(l.memory_high, "-1"),
         l.memory_high.has_value()},
        // The period first: the kernel checks the quota against the period in force.
        {"CPUQuota=", "cpu", "cpu.cfs_period_us", std::to_string(kCpuPeriodUsec),
         l.cpu_quota_usec.has_value()},
        {"CPUQuota=", "cpu", "cpu.cfs_quota_us", quota, l.cpu_quota_usec.has_value()},
        {"CPUWeight=", "cpu", "cpu.shares", std::to_string(shares), l.cpu_weight.has_value()},
        {"TasksMax=", "pids", "pids.max", number_or(l.tasks_max, "max"), l.tasks_max.has_value()},
    };
}

}  // namespace gitvisor::daemon::cgroup_detail
