#include "exec/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "exec/spec.h"

namespace gitvisor::exec {
namespace {

// In the kernel's order: the index is the capability's number.
constexpr std::array<std::string_view, 41> kNames = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

bool kernel_has(int cap) { return ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; }

}  // namespace

int capability_from_name(std::string_view name) {
    for (size_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == name) return static_cast<int>(i);
    }
    return -1;
}

std::string_view capability_name(int cap) {
    return cap >= 0 && static_cast<size_t>(cap) < kNames.size() ? kNames[static_cast<size_t>(cap)] : "";
}

Result<uint64_t> merge_capability_assignments(const std::vector<std::string>& assignments, uint64_t initial) {
    uint64_t set = initial;
    for (const std::string& assignment : assignments) {
        std::string_view rest = assignment;
        const bool invert = !rest.empty() && rest.front() == '~';
        if (invert) rest.remove_prefix(1);
        uint64_t sum = 0;
        while (!rest.empty()) {
            const size_t start = rest.find_first_not_of(" \t");
            if (start == std::string_view::npos) break;
            rest.remove_prefix(start);
            const std::string_view name = rest.substr(0, rest.find_first_of(" \t"));
            rest.remove_prefix(name.size());
            const int cap = capability_from_name(name);
            if (cap < 0) return Result<uint64_t>::fail("unknown capability '" + std::string(name) + "'");
            sum |= uint64_t{1} << cap;
        }
        if (sum == 0 || set == initial) {
            set = invert ? ~sum : sum;
        } else if (invert) {
            set &= ~sum;
        } else {
            set |= sum;
        }
    }
    return Result<uint64_t>::ok(set);
}

uint64_t effective_bounding_set(const Spec& spec) {
    const auto bit = [](int cap) { return uint64_t{1} << cap; };
    uint64_t drop = 0;
    if (spec.private_devices) drop |= bit(CAP_MKNOD) | bit(CAP_SYS_RAWIO);
    if (spec.protect_kernel_modules) drop |= bit(CAP_SYS_MODULE);
    if (spec.protect_kernel_logs) drop |= bit(CAP_SYSLOG);
    if (spec.protect_clock) drop |= bit(CAP_SYS_TIME) | bit(CAP_WAKE_ALARM);
    return spec.capability_bounding_set.value_or(kAllCapabilities) & ~drop;
}

std::string capability_names(uint64_t set) {
    std::string out;
    for (size_t i = 0; i < kNames.size(); ++i) {
        if (!(set & (uint64_t{1} << i))) continue;
        if (!out.empty()) out += ' ';
        out += kNames[i];
    }
    return out;
}

int add_inheritable_capabilities(uint64_t set) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) != 0) return errno;
    for (int cap = 0; cap < 64; ++cap) {
        if (!(set & (uint64_t{1} << cap)) || !kernel_has(cap)) continue;
        data[cap / 32].inheritable |= 1U << (cap % 32);
    }
    return ::syscall(SYS_capset, &header, data) == 0 ? 0 : errno;
}

int limit_bounding_set(uint64_t keep) {
    for (int cap = 0; cap < 64; ++cap) {
        const int in_set = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (in_set < 0) break;  // past the kernel's last capability
        if (in_set == 0 || (keep & (uint64_t{1} << cap))) continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return errno;
    }
    return 0;
}

int set_keep_capabilities(bool keep) {
    return ::prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) == 0 ? 0 : errno;
}

int raise_ambient_capabilities(uint64_t set) {
    for (int cap = 0; cap < 64; ++cap) {
        if (!(set & (uint64_t{1} << cap)) || !kernel_has(cap)) continue;
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) return errno;
    }
    return 0;
}

}  // namespace gitvisor::exec
