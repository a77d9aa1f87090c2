// CgroupManager: which layout this host has, and where each unit's cgroup lives in it. The layouts
// themselves are in cgroup_v1.cpp and cgroup_v2.cpp; what is done to a unit's cgroup in cgroup_unit.cpp.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "daemon/cgroup/cgroup_internal.h"

namespace gitvisor::daemon {

using namespace cgroup_detail;

const char* cgroup_layout_name(CgroupLayout layout) {
    switch (layout) {
        case CgroupLayout::Unified:
            return "cgroup v2";
        case CgroupLayout::Hybrid:
            return "hybrid cgroup v1";
        case CgroupLayout::None:
            break;
    }
    return "none";
}

namespace cgroup_detail {

Detection none(std::string reason) {
    Detection d;
    d.reason = std::move(reason);
    return d;
}

Result<bool> check_writable(const std::string& dir) {
    // Write access, not uid 0, is what counts: a read-only mount refuses root, a delegated subtree
    // (systemd's Delegate=yes for a user service) admits its owner.
    if (::faccessat(AT_FDCWD, dir.c_str(), W_OK, AT_EACCESS) == 0) return Result<bool>::ok(true);
    int err = errno;
    std::string message = "cannot create cgroups in '" + dir + "': " + errno_text(err);
    if (err == EACCES && ::geteuid() != 0) message += " (gitvisord is not running as root)";
    return Result<bool>::fail(message);
}

uint64_t cpu_quota_per_period(uint64_t quota_usec_per_second) {
    uint64_t quota = quota_usec_per_second * kCpuPeriodUsec / 1000000;
    return quota < kCpuMinQuotaUsec ? kCpuMinQuotaUsec : quota;
}

}  // namespace cgroup_detail

CgroupManager CgroupManager::detect(const std::string& root, const std::string& proc_self_cgroup,
                                    const std::string& parent_name) {
    Detection d;
    auto text = read_text(proc_self_cgroup);
    if (!text) {
        d = none("cannot read '" + proc_self_cgroup + "': " + errno_text(errno));
    } else if (parent_name.empty() || parent_name.find('/') != std::string::npos) {
        d = none("invalid cgroup parent name '" + parent_name + "'");
    } else if (path_exists(join_path(root, "cgroup.controllers"))) {
        d = detect_unified(root, parse_proc_cgroup(*text), parent_name);
    } else if (is_directory(join_path(root, "memory")) || is_directory(join_path(root, "pids")) ||
               is_directory(join_path(root, "cpu")) || is_directory(join_path(root, "cpu,cpuacct"))) {
        d = detect_hybrid(root, parse_proc_cgroup(*text), parent_name);
    } else {
        d = none("no cgroup file system is mounted at '" + root + "'");
    }

    CgroupManager m;
    m.m_layout = d.layout;
    m.m_display_parent = d.display_parent;
    m.m_parents = d.parents;
    m.m_names = d.names;
    m.m_unified_in_hybrid = d.unified_in_hybrid;
    m.m_reason = d.reason;
    return m;
}

bool CgroupManager::remove_parents() const {
    bool all = true;
    for (const std::string& parent : m_parents)
        if (::rmdir(parent.c_str()) != 0 && errno != ENOENT) all = false;
    return all;
}

std::string CgroupManager::describe() const {
    if (m_layout == CgroupLayout::None) return "none (" + m_reason + ")";
    std::string names;
    for (const auto& n : m_names) names += (names.empty() ? "" : " ") + n;
    if (names.empty()) names = "no controllers";
    std::string line =
        std::string(cgroup_layout_name(m_layout)) + ", units under " + m_parents.front() + " (" + names + ")";
    if (!m_reason.empty()) line += ": " + m_reason;
    return line;
}

UnitCgroup CgroupManager::locate(const std::string& unit) const {
    if (m_layout == CgroupLayout::None) return {};
    std::vector<std::string> dirs;
    for (const auto& parent : m_parents) dirs.push_back(join_path(parent, unit));
    return UnitCgroup(join_path(m_display_parent, unit), std::move(dirs));
}

Result<UnitCgroup> CgroupManager::create(const std::string& unit, const CgroupLimits& limits) const {
    auto fail = [&](const std::string& reason) {
        return Result<UnitCgroup>::fail("cannot create cgroup for '" + unit + "': " + reason);
    };
    if (m_layout == CgroupLayout::None) return fail("cgroups are not in use (" + m_reason + ")");
    if (unit.empty() || unit == "." || unit == ".." || unit.find_first_of("/\n") != std::string::npos) {
        return fail("not a valid cgroup name");
    }

    // 1. The parents, in case they were removed since start-up.
    for (const auto& parent : m_parents) {
        if (is_directory(parent)) continue;
        auto made =
            m_layout == CgroupLayout::Unified ? v2_prepare_parent(parent, m_names) : make_directory(parent);
        if (!made) return Result<UnitCgroup>::fail(made.error());
    }

    // 2. One directory per hierarchy; an existing one (a unit started again) is reused.
    UnitCgroup cgroup = locate(unit);
    for (const auto& dir : cgroup.dirs()) {
        if (auto made = make_directory(dir); !made) {
            (void)cgroup.remove();
            return Result<UnitCgroup>::fail(made.error());
        }
    }

    // 3. The limits, every one written so that a limit dropped from the unit file is lifted.
    if (auto set = cgroup.set_limits(limits); !set) {
        (void)cgroup.remove();
        return Result<UnitCgroup>::fail(set.error());
    }
    return Result<UnitCgroup>::ok(std::move(cgroup));
}

}  // namespace gitvisor::daemon
