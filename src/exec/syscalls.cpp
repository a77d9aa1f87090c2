#include "exec/syscalls.h"

#include <linux/audit.h>
#include <sys/syscall.h>

#include <algorithm>
#include <iterator>

#include "unitfile/sandbox_names.h"

namespace gitvisor::exec {
namespace {

struct SyscallName {
    std::string_view name;
    int number;
};

#define GITVISOR_SYSCALL(name) SyscallName{#name, SYS_##name},
constexpr SyscallName kSyscalls[] = {
#include "syscall_names.inc"
};
#undef GITVISOR_SYSCALL

constexpr std::pair<std::string_view, uint32_t> kArchitectures[] = {
    {"x86", AUDIT_ARCH_I386},    {"x86-64", AUDIT_ARCH_X86_64},    {"x32", AUDIT_ARCH_X86_64},
    {"arm", AUDIT_ARCH_ARM},     {"arm64", AUDIT_ARCH_AARCH64},    {"riscv64", AUDIT_ARCH_RISCV64},
    {"s390x", AUDIT_ARCH_S390X}, {"ppc64-le", AUDIT_ARCH_PPC64LE},
};

}  // namespace

int syscall_number(std::string_view name) {
    const auto* found = std::find_if(std::begin(kSyscalls), std::end(kSyscalls),
                                     [&](const SyscallName& s) { return s.name == name; });
    return found == std::end(kSyscalls) ? -1 : found->number;
}

size_t syscall_count() { return std::size(kSyscalls); }
int syscall_number_at(size_t i) { return kSyscalls[i].number; }

uint32_t native_audit_arch() { return audit_arch_of(unitfile::native_architecture_name()); }

uint32_t audit_arch_of(std::string_view name) {
    if (name == "native") name = unitfile::native_architecture_name();
    for (const auto& [known, arch] : kArchitectures)
        if (known == name) return arch;
    return 0;
}

}  // namespace gitvisor::exec
