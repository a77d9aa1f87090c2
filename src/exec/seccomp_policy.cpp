#include "exec/seccomp.h"

// Step 1 of seccomp.h: systemd's merging of the assignments (config_parse_syscall_filter(),
// config_parse_address_families(), config_parse_restrict_namespaces()), and the system call groups
// expanded into this architecture's numbers.

#include <linux/seccomp.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "exec/syscalls.h"
#include "unitfile/sandbox_names.h"

namespace gitvisor::exec {
namespace {

// The words of one assignment and whether it started with '~'.
std::vector<std::string_view> words_of(std::string_view assignment, bool* inverted) {
    *inverted = assignment.starts_with("~");
    if (*inverted) assignment.remove_prefix(1);
    std::vector<std::string_view> out;
    while (!assignment.empty()) {
        const size_t start = assignment.find_first_not_of(" \t");
        if (start == std::string_view::npos) break;
        assignment.remove_prefix(start);
        const std::string_view word = assignment.substr(0, assignment.find_first_of(" \t"));
        assignment.remove_prefix(word.size());
        out.push_back(word);
    }
    return out;
}

// Calls `each` with the number of every system call `name` (a name or an @group) stands for.
template <class F>
bool for_each_syscall(std::string_view name, const F& each, int depth = 0) {
    if (!name.starts_with("@")) {
        if (const int number = syscall_number(name); number >= 0) each(number);
        return true;
    }
    if (name == "@known") {
        for (size_t i = 0; i < syscall_count(); ++i) each(syscall_number_at(i));
        return true;
    }
    const unitfile::SyscallGroup* group = unitfile::find_syscall_group(name);
    if (group == nullptr || depth > 4) return false;
    bool inverted = false;
    for (const std::string_view member : words_of(group->members, &inverted))
        if (!for_each_syscall(member, each, depth + 1)) return false;
    return true;
}

// The first assignment decides between an allow and a deny list; later ones of the same kind add to
// it, of the other kind take from it (systemd.exec(5), SystemCallFilter=).
Result<bool> merge_filter(const std::vector<std::string>& assignments, SeccompPolicy& policy) {
    for (const std::string& assignment : assignments) {
        bool inverted = false;
        const std::vector<std::string_view> words = words_of(assignment, &inverted);
        if (words.empty() && !inverted) {  // an empty assignment: back to no filter
            policy.filter = SeccompPolicy::Filter::None;
            policy.syscalls.clear();
            continue;
        }
        if (policy.filter == SeccompPolicy::Filter::None) {
            policy.filter = inverted ? SeccompPolicy::Filter::Deny : SeccompPolicy::Filter::Allow;
            // An allow list always lets a program start and end.
            if (!inverted) for_each_syscall("@default", [&](int number) { policy.syscalls[number] = 0; });
        }
        const bool adds = inverted == (policy.filter == SeccompPolicy::Filter::Deny);
        for (const std::string_view word : words) {
            const size_t colon = word.find(':');
            const std::string_view name = word.substr(0, colon);
            const int error =
                colon == std::string_view::npos ? 0 : unitfile::errno_from_name(word.substr(colon + 1));
            if (error < 0) return Result<bool>::fail("unknown error number in '" + std::string(word) + "'");
            const bool known = for_each_syscall(name, [&](int number) {
                if (adds)
                    policy.syscalls[number] = error;
                else
                    policy.syscalls.erase(number);
            });
            if (!known) return Result<bool>::fail("unknown system call group '" + std::string(name) + "'");
        }
    }
    return Result<bool>::ok(true);
}

// The same rule for RestrictAddressFamilies=; "none" is an empty allow list.
Result<bool> merge_families(const std::vector<std::string>& assignments, SeccompPolicy& policy) {
    using Filter = SeccompPolicy::Filter;
    for (const std::string& assignment : assignments) {
        if (assignment == "none") {
            policy.families = Filter::Allow;
            policy.family_list.clear();
            continue;
        }
        bool inverted = false;
        const std::vector<std::string_view> words = words_of(assignment, &inverted);
        if (words.empty()) {
            policy.families = Filter::None;
            policy.family_list.clear();
            continue;
        }
        if (policy.families == Filter::None) policy.families = inverted ? Filter::Deny : Filter::Allow;
        const bool adds = inverted == (policy.families == Filter::Deny);
        for (const std::string_view word : words) {
            const int family = unitfile::address_family_from_name(word);
            if (family < 0) return Result<bool>::fail("unknown address family '" + std::string(word) + "'");
            auto& list = policy.family_list;
            list.erase(std::remove(list.begin(), list.end(), family), list.end());
            if (adds) list.push_back(family);
        }
    }
    return Result<bool>::ok(true);
}

// RestrictNamespaces=: the allowed set, merged as capability sets are (capabilities.h); "" allows none,
// "~" all.
Result<uint64_t> merge_namespaces(const std::vector<std::string>& assignments) {
    const uint64_t all = unitfile::all_namespace_flags();
    uint64_t allowed = all;
    for (const std::string& assignment : assignments) {
        bool inverted = false;
        uint64_t sum = 0;
        for (const std::string_view word : words_of(assignment, &inverted)) {
            const uint64_t flag = unitfile::namespace_flag_from_name(word);
            if (flag == 0)
                return Result<uint64_t>::fail("unknown namespace type '" + std::string(word) + "'");
            sum |= flag;
        }
        if (sum == 0 || allowed == all)
            allowed = inverted ? all & ~sum : sum;
        else if (inverted)
            allowed &= ~sum;
        else
            allowed |= sum;
    }
    return Result<uint64_t>::ok(all & ~allowed);
}

}  // namespace

bool SeccompPolicy::any() const {
    return filter != Filter::None || arches_set || !refused.empty() || lock_personality ||
           memory_deny_write_execute || restrict_realtime || restrict_suid_sgid || blocked_namespaces != 0 ||
           families != Filter::None;
}

Result<SeccompPolicy> seccomp_policy(const Spec& spec) {
    SeccompPolicy policy;
    const int error = spec.system_call_error_number;
    policy.action = error > 0 ? SECCOMP_RET_ERRNO | (static_cast<uint32_t>(error) & SECCOMP_RET_DATA)
                              : SECCOMP_RET_KILL_PROCESS;
    if (auto merged = merge_filter(spec.system_call_filter, policy); !merged)
        return Result<SeccompPolicy>::fail(merged.error());
    if (auto merged = merge_families(spec.restrict_address_families, policy); !merged)
        return Result<SeccompPolicy>::fail(merged.error());
    auto blocked = merge_namespaces(spec.restrict_namespaces);
    if (!blocked) return Result<SeccompPolicy>::fail(blocked.error());
    policy.blocked_namespaces = *blocked;

    if (!spec.system_call_architectures.empty()) {
        policy.arches_set = true;
        policy.native_allowed = false;
        const uint32_t native = native_audit_arch();
        for (const std::string& name : spec.system_call_architectures) {
            const uint32_t arch = audit_arch_of(name);
            if (name == "x32" && unitfile::native_architecture_name() == "x86-64")
                policy.x32_allowed = true;
            else if (arch == native)
                policy.native_allowed = true;
            else if (arch != 0)
                policy.foreign_arches.push_back(arch);
        }
    }

    const auto refuse = [&](std::string_view name) {
        for_each_syscall(name, [&](int number) { policy.refused.push_back(number); });
    };
    if (spec.private_devices) refuse("@raw-io");
    if (spec.protect_kernel_modules) refuse("@module");
    if (spec.protect_kernel_logs) refuse("syslog");
    if (spec.protect_clock) refuse("@clock");
    if (spec.protect_hostname) {
        refuse("sethostname");
        refuse("setdomainname");
    }
    policy.lock_personality = spec.lock_personality;
    policy.memory_deny_write_execute = spec.memory_deny_write_execute;
    policy.restrict_realtime = spec.restrict_realtime;
    policy.restrict_suid_sgid = spec.restrict_suid_sgid;
    return Result<SeccompPolicy>::ok(std::move(policy));
}

}  // namespace gitvisor::exec
