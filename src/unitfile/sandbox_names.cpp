#include "unitfile/sandbox_names.h"

// Errno names, address families, namespace types and architectures (sandbox_names.h). The system call
// groups are in syscall_groups.cpp.

#include <sched.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <utility>

namespace gitvisor::unitfile {
namespace {

#define GITVISOR_FAMILY(name) \
    std::pair<std::string_view, int> { #name, name }
constexpr std::pair<std::string_view, int> kFamilies[] = {
    GITVISOR_FAMILY(AF_UNIX),       GITVISOR_FAMILY(AF_LOCAL),     GITVISOR_FAMILY(AF_INET),
    GITVISOR_FAMILY(AF_AX25),       GITVISOR_FAMILY(AF_IPX),       GITVISOR_FAMILY(AF_APPLETALK),
    GITVISOR_FAMILY(AF_NETROM),     GITVISOR_FAMILY(AF_BRIDGE),    GITVISOR_FAMILY(AF_ATMPVC),
    GITVISOR_FAMILY(AF_X25),        GITVISOR_FAMILY(AF_INET6),     GITVISOR_FAMILY(AF_ROSE),
    GITVISOR_FAMILY(AF_DECnet),     GITVISOR_FAMILY(AF_NETBEUI),   GITVISOR_FAMILY(AF_SECURITY),
    GITVISOR_FAMILY(AF_KEY),        GITVISOR_FAMILY(AF_NETLINK),   GITVISOR_FAMILY(AF_PACKET),
    GITVISOR_FAMILY(AF_ASH),        GITVISOR_FAMILY(AF_ECONET),    GITVISOR_FAMILY(AF_ATMSVC),
    GITVISOR_FAMILY(AF_RDS),        GITVISOR_FAMILY(AF_SNA),       GITVISOR_FAMILY(AF_IRDA),
    GITVISOR_FAMILY(AF_PPPOX),      GITVISOR_FAMILY(AF_WANPIPE),   GITVISOR_FAMILY(AF_LLC),
    GITVISOR_FAMILY(AF_IB),         GITVISOR_FAMILY(AF_MPLS),      GITVISOR_FAMILY(AF_CAN),
    GITVISOR_FAMILY(AF_TIPC),       GITVISOR_FAMILY(AF_BLUETOOTH), GITVISOR_FAMILY(AF_IUCV),
    GITVISOR_FAMILY(AF_RXRPC),      GITVISOR_FAMILY(AF_ISDN),      GITVISOR_FAMILY(AF_PHONET),
    GITVISOR_FAMILY(AF_IEEE802154), GITVISOR_FAMILY(AF_CAIF),      GITVISOR_FAMILY(AF_ALG),
    GITVISOR_FAMILY(AF_NFC),        GITVISOR_FAMILY(AF_VSOCK),     GITVISOR_FAMILY(AF_KCM),
    GITVISOR_FAMILY(AF_QIPCRTR),    GITVISOR_FAMILY(AF_SMC),       GITVISOR_FAMILY(AF_XDP),
};
#undef GITVISOR_FAMILY

constexpr std::pair<std::string_view, uint64_t> kNamespaces[] = {
    {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC},   {"net", CLONE_NEWNET}, {"mnt", CLONE_NEWNS},
    {"pid", CLONE_NEWPID},       {"user", CLONE_NEWUSER}, {"uts", CLONE_NEWUTS},
};

// systemd's names for the architectures it has seccomp support for.
constexpr std::string_view kArchitectures[] = {
    "native",  "x86",    "x86-64",    "x32",      "arm",         "arm64",    "mips",
    "mips-le", "mips64", "mips64-le", "ppc",      "ppc64",       "ppc64-le", "riscv64",
    "s390",    "s390x",  "parisc",    "parisc64", "loongarch64",
};

}  // namespace

int errno_from_name(std::string_view name) {
    if (!name.empty() && name.size() <= 4 &&
        std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        int number = 0;
        for (const char c : name) number = number * 10 + (c - '0');
        return number >= 1 && number <= 4095 ? number : -1;
    }
    if (!name.starts_with("E")) return -1;
    // glibc's own table of names: every errno it knows, none to keep up to date here.
    for (int number = 1; number < 4096; ++number) {
        const char* known = ::strerrorname_np(number);
        if (known != nullptr && name == known) return number;
    }
    return -1;
}

int address_family_from_name(std::string_view name) {
    for (const auto& [known, number] : kFamilies)
        if (known == name) return number;
    return -1;
}

uint64_t namespace_flag_from_name(std::string_view name) {
    for (const auto& [known, flag] : kNamespaces)
        if (known == name) return flag;
    return 0;
}

uint64_t all_namespace_flags() {
    uint64_t all = 0;
    for (const auto& [name, flag] : kNamespaces) all |= flag;
    return all;
}

bool is_architecture_name(std::string_view name) {
    return std::find(std::begin(kArchitectures), std::end(kArchitectures), name) != std::end(kArchitectures);
}

std::string_view native_architecture_name() {
#if defined(__x86_64__) && defined(__ILP32__)
    return "x32";
#elif defined(__x86_64__)
    return "x86-64";
#elif defined(__i386__)
    return "x86";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64-le";
#else
    return "unknown";
#endif
}

}  // namespace gitvisor::unitfile
