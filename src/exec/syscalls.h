#pragma once
// System call numbers by name for the architecture gitvisor-exec runs on (the table is made at build
// time from <sys/syscall.h>), and the identity of that architecture in a seccomp filter.

#include <cstdint>
#include <string_view>

namespace gitvisor::exec {

// "read" -> SYS_read; -1 for a name this architecture does not have.
int syscall_number(std::string_view name);
// How many names the table has, and the number of the i-th.
size_t syscall_count();
int syscall_number_at(size_t i);

// AUDIT_ARCH_* of the native architecture: what seccomp_data.arch holds for its system calls.
uint32_t native_audit_arch();
// AUDIT_ARCH_* for a SystemCallArchitectures= name ("x86", "arm64"...), 0 when not known here. "native"
// is the native one.
uint32_t audit_arch_of(std::string_view name);

}  // namespace gitvisor::exec
