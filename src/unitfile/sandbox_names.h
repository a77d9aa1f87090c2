#pragma once
// The names the seccomp settings of systemd.exec(5) take: system call groups (SystemCallFilter=@...),
// errno names (SystemCallErrorNumber=), architectures (SystemCallArchitectures=), address families
// (RestrictAddressFamilies=) and namespace types (RestrictNamespaces=). Shared by the unit-file parser,
// which validates them, and gitvisor-exec, which turns them into a filter; part of gitvisor_words, so
// they carry no process or kernel logic, only names and numbers.

#include <cstdint>
#include <span>
#include <string_view>

namespace gitvisor::unitfile {

// One group: "@basic-io" and its members, space-separated system call names and other groups.
struct SyscallGroup {
    std::string_view name;
    std::string_view members;
};

std::span<const SyscallGroup> syscall_groups();
const SyscallGroup* find_syscall_group(std::string_view name);  // with the '@'

// Whether `name` can be a system call name ([a-z0-9_]+): an unknown one is ignored, as systemd does.
bool is_syscall_name(std::string_view name);

// "EPERM" -> 1 ...; also a number 1..4095. -1 when neither.
int errno_from_name(std::string_view name);

// AF_UNIX -> 1 ... (AF_LOCAL too); -1 for an unknown name.
int address_family_from_name(std::string_view name);

// "cgroup", "ipc", "net", "mnt", "pid", "user", "uts" -> their CLONE_NEW* flag; 0 for an unknown name.
uint64_t namespace_flag_from_name(std::string_view name);
// All seven flags.
uint64_t all_namespace_flags();

// SystemCallArchitectures=: "native" and systemd's architecture names ("x86-64", "arm64", ...).
bool is_architecture_name(std::string_view name);
// The name of the architecture gitvisor was built for ("x86-64", "arm64"...).
std::string_view native_architecture_name();

}  // namespace gitvisor::unitfile
