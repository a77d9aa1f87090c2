#pragma once
// SystemCallFilter=, SystemCallErrorNumber=, SystemCallArchitectures=, LockPersonality=,
// MemoryDenyWriteExecute=, RestrictRealtime=, RestrictSUIDSGID=, RestrictNamespaces= and
// RestrictAddressFamilies= (systemd.exec(5)), as one classic BPF seccomp filter, without libseccomp:
//   1. The policy (seccomp_policy.cpp): the assignments merged as systemd merges them, groups expanded,
//      names turned into this architecture's numbers (an unknown name is skipped, as in systemd), plus
//      the system calls PrivateDevices= (@raw-io), ProtectKernelModules= (@module), ProtectKernelLogs=
//      (syslog), ProtectClock= (@clock) and ProtectHostname= (sethostname, setdomainname) refuse with
//      EPERM.
//   2. The program (seccomp_bpf.cpp), made once when gitvisor-exec starts. In order: the architecture
//      check, so that a system call of another ABI (i386, x32 on x86-64) cannot go around the filter: it
//      kills the process, unless SystemCallArchitectures= lists that ABI and nothing else is filtered (a
//      filter of native numbers cannot judge it); the write of a failed start's report to gitvisor-exec
//      (the one call gitvisor-exec itself makes between the filter and execve); SystemCallFilter=; the
//      checks of arguments (flags of mmap, clone, socket...); allow.
//   3. In the unit's process, after the change of user, just before execve (setup.cpp): the report's
//      descriptor is written into the program, no_new_privs is set unless the process has CAP_SYS_ADMIN
//      (the kernel requires one of the two), and the filter is loaded. Commands with the '+' prefix
//      run without it.
// Where systemd applies a filter to each ABI the kernel runs (x86, x32 besides x86-64), the other ABIs are
// refused here whenever anything is filtered: a 32-bit program in such a unit dies with SIGSYS.

#include <linux/filter.h>

#include <cstdint>
#include <map>
#include <vector>

#include "common/result.h"
#include "exec/spec.h"

namespace gitvisor::exec {

struct SeccompPolicy {
    // SystemCallFilter=: none, an allow list (everything else gets `action`) or a deny list (these get
    // their own errno, or `action` when it is 0).
    enum class Filter { None, Allow, Deny };
    Filter filter = Filter::None;
    std::map<int, int> syscalls;  // number -> errno (0: `action`)
    uint32_t action = 0;          // SECCOMP_RET_KILL_PROCESS or SECCOMP_RET_ERRNO | errno

    // SystemCallArchitectures=: whether the native ABI may call (false only when the list leaves it
    // out), and the other ABIs (AUDIT_ARCH_*) it allows; x32 is its own flag on x86-64.
    bool native_allowed = true;
    std::vector<uint32_t> foreign_arches;
    bool x32_allowed = false;
    bool arches_set = false;

    std::vector<int> refused;  // EPERM: what PrivateDevices=, ProtectClock=... take away

    bool lock_personality = false;
    bool memory_deny_write_execute = false;
    bool restrict_realtime = false;
    bool restrict_suid_sgid = false;
    uint64_t blocked_namespaces = 0;  // CLONE_NEW* flags that may not be made or joined

    // RestrictAddressFamilies=: socket() of a family outside the allow list, or in the deny list, fails
    // with EAFNOSUPPORT.
    Filter families = Filter::None;
    std::vector<int> family_list;

    // Whether there is anything to filter at all.
    bool any() const;
};

// Step 1. Errors: "unknown system call group '@x'", "unknown namespace type 'x'", "unknown address
// family 'AF_X'" (the daemon checks the unit first, so these come from a hand-written spec).
Result<SeccompPolicy> seccomp_policy(const Spec& spec);

struct SeccompProgram {
    std::vector<sock_filter> code;
    size_t report_fd_index = 0;  // the instruction that compares with the report's descriptor
};

// Step 2; `personality` is the execution domain LockPersonality= keeps (the current one).
SeccompProgram build_seccomp_program(const SeccompPolicy& policy, unsigned long personality);

// Step 3, in the unit's process: returns 0 or an errno.
int install_seccomp(SeccompProgram& program, int report_fd);

}  // namespace gitvisor::exec
