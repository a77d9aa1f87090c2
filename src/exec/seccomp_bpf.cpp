#include "exec/seccomp.h"

// Steps 2 and 3 of seccomp.h: the classic BPF program and its loading. Conditional jumps reach at most
// 255 instructions ahead, so every test that returns sits right after its comparison ("JEQ n, 0, 1;
// RET"), and the allow list leaves its section with an unconditional jump (32-bit offset).

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>

#include "exec/syscalls.h"

namespace gitvisor::exec {
namespace {

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
constexpr uint32_t errno_action(int error) {
    return SECCOMP_RET_ERRNO | (static_cast<uint32_t>(error) & SECCOMP_RET_DATA);
}

constexpr uint32_t kNrOffset = offsetof(seccomp_data, nr);
constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);
// The low 32 bits of argument `i`: flags, modes and families all fit there.
constexpr uint32_t arg_low(int i) {
    return static_cast<uint32_t>(offsetof(seccomp_data, args) + 8 * i) +
           (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 0 : 4);
}

class Builder {
public:
    std::vector<sock_filter> code;

    void load(uint32_t offset) { add(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)); }
    void ret(uint32_t action) { add(BPF_STMT(BPF_RET | BPF_K, action)); }
    void jeq(uint32_t k, uint8_t jt, uint8_t jf) { add(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf)); }
    void jset(uint32_t k, uint8_t jt, uint8_t jf) { add(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, k, jt, jf)); }
    void and_(uint32_t k) { add(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, k)); }
    void ja(uint32_t offset) { add(BPF_STMT(BPF_JMP | BPF_JA, offset)); }
    void add_jge(uint32_t k) { add(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, k, 0, 1)); }  // then a RET

    // Each block below starts by loading the system call number and skips itself for another call.
    // `syscall` < 0 (not on this architecture): nothing.

    void refuse(int syscall, uint32_t action) {
        if (syscall < 0) return;
        load(kNrOffset);
        jeq(static_cast<uint32_t>(syscall), 0, 1);
        ret(action);
    }
    // `action` when argument `arg` has any of `bits`.
    void refuse_bits(int syscall, int arg, uint32_t bits, uint32_t action) {
        if (syscall < 0) return;
        load(kNrOffset);
        jeq(static_cast<uint32_t>(syscall), 0, 3);
        load(arg_low(arg));
        jset(bits, 0, 1);
        ret(action);
    }
    // `action` when argument `arg` has all of `bits`.
    void refuse_all_bits(int syscall, int arg, uint32_t bits, uint32_t action) {
        if (syscall < 0) return;
        load(kNrOffset);
        jeq(static_cast<uint32_t>(syscall), 0, 4);
        load(arg_low(arg));
        and_(bits);
        jeq(bits, 0, 1);
        ret(action);
    }
    // EPERM when argument `flags_arg` has O_CREAT and `mode_arg` a set-ID bit (open, openat).
    void refuse_suid_create(int syscall, int flags_arg, int mode_arg) {
        if (syscall < 0) return;
        load(kNrOffset);
        jeq(static_cast<uint32_t>(syscall), 0, 5);
        load(arg_low(flags_arg));
        jset(O_CREAT, 0, 3);
        load(arg_low(mode_arg));
        jset(S_ISUID | S_ISGID, 0, 1);
        ret(errno_action(EPERM));
    }
    // `action` unless argument `arg` is one of `allowed` (at most 200 values).
    void allow_only(int syscall, int arg, const std::vector<uint32_t>& allowed, uint32_t action) {
        if (syscall < 0) return;
        const size_t n = allowed.size();
        load(kNrOffset);
        jeq(static_cast<uint32_t>(syscall), 0, static_cast<uint8_t>(n + 2));
        load(arg_low(arg));
        for (size_t i = 0; i < n; ++i) jeq(allowed[i], static_cast<uint8_t>(n - i), 0);
        ret(action);
    }

private:
    void add(sock_filter instruction) { code.push_back(instruction); }
};

#ifdef SYS_open
constexpr int kOpen = SYS_open;
#else
constexpr int kOpen = -1;
#endif
#ifdef SYS_creat
constexpr int kCreat = SYS_creat;
#else
constexpr int kCreat = -1;
#endif
#ifdef SYS_chmod
constexpr int kChmod = SYS_chmod;
constexpr int kMkdir = SYS_mkdir;
constexpr int kMknod = SYS_mknod;
#else
constexpr int kChmod = -1;
constexpr int kMkdir = -1;
constexpr int kMknod = -1;
#endif
#ifdef SYS_fchmodat2
constexpr int kFchmodat2 = SYS_fchmodat2;
#else
constexpr int kFchmodat2 = -1;
#endif

// The checks of arguments, after the system call filter.
void add_argument_checks(Builder& b, const SeccompPolicy& policy, unsigned long personality) {
    for (const int syscall : policy.refused) b.refuse(syscall, errno_action(EPERM));
    if (policy.memory_deny_write_execute) {
        b.refuse_all_bits(SYS_mmap, 2, PROT_WRITE | PROT_EXEC, errno_action(EPERM));
        b.refuse_bits(SYS_mprotect, 2, PROT_EXEC, errno_action(EPERM));
        b.refuse_bits(SYS_pkey_mprotect, 2, PROT_EXEC, errno_action(EPERM));
        b.refuse_bits(SYS_shmat, 2, SHM_EXEC, errno_action(EPERM));
    }
    if (policy.restrict_suid_sgid) {
        const uint32_t set_id = S_ISUID | S_ISGID;
        for (const auto& [syscall, mode_arg] :
             {std::pair{kChmod, 1}, std::pair{int{SYS_fchmod}, 1}, std::pair{int{SYS_fchmodat}, 2},
              std::pair{kFchmodat2, 2}, std::pair{kMkdir, 1}, std::pair{int{SYS_mkdirat}, 2},
              std::pair{kMknod, 1}, std::pair{int{SYS_mknodat}, 2}, std::pair{kCreat, 1}})
            b.refuse_bits(syscall, mode_arg, set_id, errno_action(EPERM));
        b.refuse_suid_create(kOpen, 1, 2);
        b.refuse_suid_create(SYS_openat, 2, 3);
        // Its mode lies in a structure the filter cannot read: the C library falls back to openat.
        b.refuse(SYS_openat2, errno_action(ENOSYS));
    }
    if (policy.restrict_realtime) {
        // Only the policies that are not realtime; SCHED_RESET_ON_FORK may come with them.
        b.load(kNrOffset);
        b.jeq(SYS_sched_setscheduler, 0, 6);
        b.load(arg_low(1));
        b.and_(~static_cast<uint32_t>(SCHED_RESET_ON_FORK));
        b.jeq(SCHED_OTHER, 3, 0);
        b.jeq(SCHED_BATCH, 2, 0);
        b.jeq(SCHED_IDLE, 1, 0);
        b.ret(errno_action(EPERM));
    }
    if (policy.lock_personality) {
        // The current domain again, or the query 0xffffffff.
        b.allow_only(SYS_personality, 0, {0xFFFFFFFFU, static_cast<uint32_t>(personality)},
                     errno_action(EPERM));
    }
    if (const auto blocked = static_cast<uint32_t>(policy.blocked_namespaces); blocked != 0) {
        b.refuse_bits(SYS_unshare, 0, blocked, errno_action(EPERM));
        b.refuse_bits(SYS_clone, 0, blocked, errno_action(EPERM));  // flags come first on x86-64 and arm64
        b.refuse(SYS_clone3, errno_action(ENOSYS));                 // flags in a structure: clone instead
        // setns(fd, 0) may join any namespace.
        b.load(kNrOffset);
        b.jeq(SYS_setns, 0, 4);
        b.load(arg_low(1));
        b.jeq(0, 1, 0);
        b.jset(blocked, 0, 1);
        b.ret(errno_action(EPERM));
    }
    if (policy.families == SeccompPolicy::Filter::Allow) {
        std::vector<uint32_t> allowed(policy.family_list.begin(), policy.family_list.end());
        b.allow_only(SYS_socket, 0, allowed, errno_action(EAFNOSUPPORT));
    } else if (policy.families == SeccompPolicy::Filter::Deny) {
        for (const int family : policy.family_list) {
            b.load(kNrOffset);
            b.jeq(SYS_socket, 0, 3);
            b.load(arg_low(0));
            b.jeq(static_cast<uint32_t>(family), 0, 1);
            b.ret(errno_action(EAFNOSUPPORT));
        }
    }
}

bool has_effective_sys_admin() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) != 0) return false;
    return (data[CAP_SYS_ADMIN / 32].effective & (1U << (CAP_SYS_ADMIN % 32))) != 0;
}

}  // namespace

SeccompProgram build_seccomp_program(const SeccompPolicy& policy, unsigned long personality) {
    Builder b;
    const bool other_rules = policy.filter != SeccompPolicy::Filter::None || !policy.refused.empty() ||
                             policy.lock_personality || policy.memory_deny_write_execute ||
                             policy.restrict_realtime || policy.restrict_suid_sgid ||
                             policy.blocked_namespaces != 0 || policy.families != SeccompPolicy::Filter::None;
    // 1. The architecture. Another ABI's numbers mean other calls: allowed only when listed and when
    //    nothing else is filtered, killed otherwise.
    const uint32_t foreign = other_rules ? kKill : kAllow;
    b.load(kArchOffset);
    if (policy.native_allowed)
        b.jeq(native_audit_arch(), static_cast<uint8_t>(2 * policy.foreign_arches.size() + 1), 0);
    for (const uint32_t arch : policy.foreign_arches) {
        b.jeq(arch, 0, 1);
        b.ret(foreign);
    }
    b.ret(kKill);
    b.load(kNrOffset);
#if defined(__x86_64__)
    // x32 calls come with the x86-64 architecture and this bit in their number.
    constexpr uint32_t kX32Bit = 0x40000000;
    b.add_jge(kX32Bit);
    b.ret(policy.x32_allowed && !other_rules ? kAllow : kKill);
#endif
    // 2. The report of a failed execve, on the descriptor written in at step 3.
    b.jeq(SYS_write, 0, 3);
    b.load(arg_low(0));
    const size_t report_fd_index = b.code.size();
    b.jeq(0, 0, 1);
    b.ret(kAllow);

    // 3. SystemCallFilter=.
    if (policy.filter == SeccompPolicy::Filter::Allow) {
        b.load(kNrOffset);
        const size_t start = b.code.size();
        const size_t end = start + 2 * policy.syscalls.size() + 1;  // past the final RET
        for (const auto& [number, error] : policy.syscalls) {
            b.jeq(static_cast<uint32_t>(number), 0, 1);
            b.ja(static_cast<uint32_t>(end - b.code.size() - 1));
        }
        b.ret(policy.action);
    } else if (policy.filter == SeccompPolicy::Filter::Deny) {
        b.load(kNrOffset);
        for (const auto& [number, error] : policy.syscalls) {
            b.jeq(static_cast<uint32_t>(number), 0, 1);
            b.ret(error > 0 ? errno_action(error) : policy.action);
        }
    }

    // 4. The arguments, then everything else is allowed.
    add_argument_checks(b, policy, personality);
    b.ret(kAllow);
    return SeccompProgram{std::move(b.code), report_fd_index};
}

int install_seccomp(SeccompProgram& program, int report_fd) {
    program.code[program.report_fd_index].k = static_cast<uint32_t>(report_fd);
    if (program.code.size() > BPF_MAXINSNS) return E2BIG;
    // The kernel takes a filter from a process with no_new_privs or CAP_SYS_ADMIN (systemd sets
    // NoNewPrivileges= implicitly in the same case).
    if (!has_effective_sys_admin() && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
    sock_fprog prog{static_cast<unsigned short>(program.code.size()), program.code.data()};
    return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : errno;
}

}  // namespace gitvisor::exec
