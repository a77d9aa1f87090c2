// The pure cgroup v2 layout: one hierarchy at the root, controllers enabled per level through
// cgroup.subtree_control.
//
// v2's "no internal processes" rule: a cgroup that enables controllers for its children may hold no
// process itself (the root excepted). So the gitvisor parent only ever holds unit cgroups, and when
// gitvisord's own cgroup still holds gitvisord (systemd's Delegate=yes puts it there), gitvisord first moves
// itself into a leaf beside the parent, "<parent>-daemon", as systemd-managed delegates are expected to.

#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "daemon/cgroup/cgroup_internal.h"

namespace gitvisor::daemon::cgroup_detail {
namespace {

const char* const kWantedControllers[] = {"memory", "pids", "cpu"};

std::string controllers_line(const std::vector<std::string>& controllers) {
    std::string line;
    for (const auto& c : controllers) line += (line.empty() ? "+" : " +") + c;
    return line;
}

// Enables `controllers` in `own`/cgroup.subtree_control, moving gitvisord out of `own` first when the
// kernel refuses because `own` holds processes. Returns the error text, empty on success.
std::string enable_in_own_cgroup(const std::string& own, bool own_is_root, const std::string& leaf_name,
                                 const std::vector<std::string>& controllers) {
    const std::string control = join_path(own, "cgroup.subtree_control");
    const std::string line = controllers_line(controllers);
    int err = write_text_errno(control, line);
    if (err == EBUSY && !own_is_root) {
        // 1. Move gitvisord into a leaf of its own cgroup.
        const std::string leaf = join_path(own, leaf_name);
        auto made = make_directory(leaf);
        if (!made) return made.error();
        const std::string self = std::to_string(::getpid());
        if (auto moved = write_text(join_path(leaf, "cgroup.procs"), self); !moved) return moved.error();
        // 2. Try again; other processes may still be there (gitvisord not started as a delegated service).
        err = write_text_errno(control, line);
        if (err != 0) {
            // 3. Put gitvisord back where it was rather than leave it in a leaf that explains nothing.
            (void)write_text(join_path(own, "cgroup.procs"), self);
            ::rmdir(leaf.c_str());
            return "cannot write '" + control + "': " + errno_text(err) + " (value '" + line +
                   "'): other processes share gitvisord's cgroup";
        }
    }
    if (err != 0) return "cannot write '" + control + "': " + errno_text(err) + " (value '" + line + "')";
    return {};
}

}  // namespace

Result<bool> v2_prepare_parent(const std::string& parent, const std::vector<std::string>& controllers) {
    auto made = make_directory(parent);
    if (!made) return made;
    if (controllers.empty()) return Result<bool>::ok(true);
    return write_text(join_path(parent, "cgroup.subtree_control"), controllers_line(controllers));
}

Detection detect_unified(const std::string& root, const std::vector<ProcCgroupEntry>& entries,
                         const std::string& parent_name) {
    // 1. gitvisord's own cgroup: the "0::/path" line.
    const ProcCgroupEntry* self = nullptr;
    for (const auto& e : entries) {
        if (e.id == "0" && e.controllers.empty()) self = &e;
    }
    if (self == nullptr) return none("no cgroup2 entry (\"0::/path\") for gitvisord");
    const std::string own = join_path(root, self->path);
    if (!is_directory(own)) return none("cannot find gitvisord's cgroup '" + own + "'");
    if (auto writable = check_writable(own); !writable) return none(writable.error());

    // 2. The controllers we want that the kernel offers at this level.
    std::vector<std::string> available;
    std::istringstream offered(read_text(join_path(own, "cgroup.controllers")).value_or(""));
    std::vector<std::string> offered_list;
    for (std::string c; offered >> c;) offered_list.push_back(c);
    for (const char* want : kWantedControllers) {
        for (const auto& c : offered_list) {
            if (c == want) available.push_back(c);
        }
    }

    // 3. Enable them for the gitvisor parent. Without them units still get cgroup.kill and
    //    cgroup.events; a limit then fails at create() naming the missing file.
    Detection d;
    d.layout = CgroupLayout::Unified;
    if (!available.empty()) {
        std::string error = enable_in_own_cgroup(own, self->path == "/", parent_name + "-daemon", available);
        if (error.empty()) {
            d.names = available;
        } else {
            d.reason = error;
        }
    }

    // 4. The parent, enabling the same controllers for the unit cgroups below it.
    const std::string parent = join_path(own, parent_name);
    if (auto prepared = v2_prepare_parent(parent, d.names); !prepared) return none(prepared.error());
    d.parents = {parent};
    d.display_parent = join_path(self->path, parent_name);
    return d;
}

std::vector<LimitWrite> v2_limit_writes(const CgroupLimits& l) {
    auto number_or_max = [](const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : "max"; };
    std::string cpu_max =
        (l.cpu_quota_usec ? std::to_string(cpu_quota_per_period(*l.cpu_quota_usec)) : "max") + " " +
        std::to_string(kCpuPeriodUsec);
    uint64_t weight = l.cpu_weight.value_or(100);
    weight = weight < 1 ? 1 : (weight > 10000 ? 10000 : weight);
    return {
        {"MemoryMax=", "memory", "memory.max", number_or_max(l.memory_max), l.memory_max.has_value()},
        {"MemoryHigh=", "memory", "memory.high", number_or_max(l.memory_high), l.memory_high.has_value()},
        {"CPUQuota=", "cpu", "cpu.max", cpu_max, l.cpu_quota_usec.has_value()},
        {"CPUWeight=", "cpu", "cpu.weight", std::to_string(weight), l.cpu_weight.has_value()},
        {"TasksMax=", "pids", "pids.max", number_or_max(l.tasks_max), l.tasks_max.has_value()},
    };
}

}  // namespace gitvisor::daemon::cgroup_detail
