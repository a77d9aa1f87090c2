#include "unitfile/specifiers.h"

#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <fstream>
#include <optional>
#include <vector>

#include "unitfile/unit_name.h"

namespace gitvisor::unitfile {

namespace {

// ---- Reading the host
// ----------------------------------------------------------------------------------------

// The first line of a small file, or "" if it cannot be read.
std::string read_first_line(const char* path) {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) {
        return "";
    }
    return line;
}

bool is_lower_hex_id(std::string_view text) {
    if (text.size() != 32) {
        return false;
    }
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

std::string read_machine_id() {
    std::string id = read_first_line("/etc/machine-id");
    // An empty or "uninitialized" file means the host has no machine ID yet.
    return is_lower_hex_id(id) ? id : "";
}

std::string read_boot_id() {
    std::string id;
    for (char c : read_first_line("/proc/sys/kernel/random/boot_id")) {
        if (c != '-') {
            id += c;
        }
    }
    return is_lower_hex_id(id) ? id : "";
}

std::string read_host_name() {
    std::array<char, HOST_NAME_MAX + 1> buffer{};
    if (gethostname(buffer.data(), buffer.size() - 1) != 0) {
        return "";
    }
    std::string name(buffer.data());
    // systemd falls back to "localhost" when no name was ever set.
    if (name.empty() || name == "(none)") {
        return "localhost";
    }
    return name;
}

// The name systemd gives the architecture reported by uname(2) (its table in architecture.c). Unknown
// machines give "", so that %a reports an error instead of a name systemd would not use.
std::string architecture_name(std::string_view machine) {
    constexpr bool kBigEndian = std::endian::native == std::endian::big;
    struct Row {
        std::string_view machine;
        std::string_view name;
    };
    static constexpr Row kTable[] = {
        {"x86_64", "x86-64"},
        {"i686", "x86"},
        {"i586", "x86"},
        {"i486", "x86"},
        {"i386", "x86"},
        {"aarch64", "arm64"},
        {"aarch64_be", "arm64-be"},
        {"ppc64le", "ppc64-le"},
        {"ppc64", "ppc64"},
        {"ppcle", "ppc-le"},
        {"ppc", "ppc"},
        {"s390x", "s390x"},
        {"s390", "s390"},
        {"riscv64", "riscv64"},
        {"riscv32", "riscv32"},
        {"loongarch64", "loongarch64"},
        {"sparc64", "sparc64"},
        {"sparc", "sparc"},
        {"alpha", "alpha"},
        {"ia64", "ia64"},
        {"parisc64", "parisc64"},
        {"parisc", "parisc"},
        {"m68k", "m68k"},
        {"arc", "arc"},
        {"arceb", "arc-be"},
        {"crisv32", "cris"},
        {"nios2", "nios2"},
        {"tilegx", "tilegx"},
    };
    for (const Row& row : kTable) {
        if (row.machine == machine) {
            return std::string(row.name);
        }
    }
    // 32-bit ARM names its exact core ("armv7l", "armv5tejb"); the last letter gives the byte order.
    if (machine.starts_with("armv") && machine.size() > 4) {
        return machine.ends_with('b') ? "arm-be" : "arm";
    }
    // MIPS does not name its byte order; it is the one this program was built for.
    if (machine == "mips64") {
        return kBigEndian ? "mips64" : "mips64-le";
    }
    if (machine == "mips") {
        return kBigEndian ? "mips" : "mips-le";
    }
    return "";
}

// Calls a getpw*_r / getgr*_r style function, growing its buffer while it reports ERANGE.
template <class Entry, class Lookup>
std::optional<Entry> lookup_entry(Lookup lookup, std::vector<char>& buffer) {
    buffer.resize(4096);
    for (;;) {
        Entry entry{};
        Entry* found = nullptr;
        const int error = lookup(&entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < (1u << 20)) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (error != 0 || found == nullptr) {
            return std::nullopt;
        }
        return entry;
    }
}

void fill_user(SpecifierContext& context) {
    const uid_t uid = getuid();
    context.uid = std::to_string(uid);
    std::vector<char> buffer;
    const auto entry =
        lookup_entry<passwd>([uid](passwd* pw, char* buf, size_t size,
                                   passwd** found) { return getpwuid_r(uid, pw, buf, size, found); },
                             buffer);
    if (entry) {
        context.user_name = entry->pw_name ? entry->pw_name : "";
        context.home = entry->pw_dir ? entry->pw_dir : "";
        context.shell = entry->pw_shell ? entry->pw_shell : "";
    } else if (uid == 0) {
        // Like systemd, root is known without a user database (early boot, minimal containers).
        context.user_name = "root";
        context.home = "/root";
        context.shell = "/bin/sh";
    }
}

void fill_group(SpecifierContext& context) {
    const gid_t gid = getgid();
    context.gid = std::to_string(gid);
    std::vector<char> buffer;
    const auto entry =
        lookup_entry<group>([gid](group* gr, char* buf, size_t size,
                                  group** found) { return getgrgid_r(gid, gr, buf, size, found); },
                            buffer);
    if (entry) {
        context.group_name = entry->gr_name ? entry->gr_name : "";
    } else if (gid == 0) {
        context.group_name = "root";
    }
}

// ---- Values derived from the unit name
// -------------------------------------------------------------------------

// The directory part of a path, as dirname(1) gives it.
std::string directory_of(std::string_view path) {
    while (path.size() > 1 && path.back() == '/') {
        path.remove_suffix(1);
    }
    const size_t slash = path.rfind('/');
    if (slash == std::string_view::npos) {
        return ".";
    }
    path = path.substr(0, slash);
    while (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    return path.empty() ? "/" : std::string(path);
}

// %f: the instance (or, without one, the prefix) unescaped as a path; "-" stands for the root.
std::string path_from_component(std::string_view escaped) {
    if (escaped == "-") {
        return "/";
    }
    return "/" + unescape_unit_component(escaped);
}

// %j: the part of the prefix after its last '-'.
std::string_view last_component(std::string_view prefix) {
    const size_t dash = prefix.rfind('-');
    return dash == std::string_view::npos ? prefix : prefix.substr(dash + 1);
}

// The specifiers whose value is a field of the context, as it stands.
struct FieldSpecifier {
    char specifier;
    std::string SpecifierContext::*field;
};
constexpr FieldSpecifier kFieldSpecifiers[] = {
    {'H', &SpecifierContext::hostname},       {'l', &SpecifierContext::short_hostname},
    {'m', &SpecifierContext::machine_id},     {'b', &SpecifierContext::boot_id},
    {'v', &SpecifierContext::kernel_release}, {'a', &SpecifierContext::architecture},
    {'u', &SpecifierContext::user_name},      {'U', &SpecifierContext::uid},
    {'g', &SpecifierContext::group_name},     {'G', &SpecifierContext::gid},
    {'h', &SpecifierContext::home},           {'s', &SpecifierContext::shell},
    {'t', &SpecifierContext::runtime_dir},    {'S', &SpecifierContext::state_dir},
    {'C', &SpecifierContext::cache_dir},      {'L', &SpecifierContext::logs_dir},
    {'E', &SpecifierContext::config_dir},     {'T', &SpecifierContext::temp_dir},
    {'V', &SpecifierContext::var_temp_dir},   {'y', &SpecifierContext::fragment_path},
};

// The value of a specifier derived from the unit name; nullopt if `specifier` is not one of them.
std::optional<std::string> unit_name_value(char specifier, const UnitName& unit) {
    switch (specifier) {
        case 'n':
            return unit.full;
        case 'N':
            return unit.full.substr(0, unit.full.size() - unit.suffix.size() - 1);
        case 'p':
            return unit.prefix;
        case 'P':
            return unescape_unit_component(unit.prefix);
        case 'i':
            return unit.instance;
        case 'I':
            return unescape_unit_component(unit.instance);
        case 'j':
            return std::string(last_component(unit.prefix));
        case 'J':
            return unescape_unit_component(last_component(unit.prefix));
        case 'f':
            return path_from_component(unit.is_instance ? unit.instance : unit.prefix);
        default:
            return std::nullopt;
    }
}

bool is_unit_name_specifier(char specifier) {
    return std::string_view("nNpPiIjJf").find(specifier) != std::string_view::npos;
}

// The value of `specifier`: nullopt if it is unknown; an empty string if it has no value.
// `unit` is the parsed unit name, if there is one; without it the unit-name specifiers have no value.
std::optional<std::string> resolve(char specifier, const SpecifierContext& context,
                                   const std::optional<UnitName>& unit) {
    for (const FieldSpecifier& row : kFieldSpecifiers) {
        if (row.specifier == specifier) {
            return context.*row.field;
        }
    }
    if (specifier == 'Y') {
        return context.fragment_path.empty() ? "" : directory_of(context.fragment_path);
    }
    if (is_unit_name_specifier(specifier)) {
        return unit ? unit_name_value(specifier, *unit) : "";
    }
    return std::nullopt;
}

// The unit-name specifiers whose value may rightly be empty: a plain unit has no instance, and a prefix
// ending in '-' has an empty last component.
bool may_be_empty(char specifier) {
    return specifier == 'i' || specifier == 'I' || specifier == 'j' || specifier == 'J';
}

}  // namespace

SpecifierContext SpecifierContext::for_host(std::string unit_name) {
    SpecifierContext context;
    context.unit_name = std::move(unit_name);
    context.hostname = read_host_name();
    context.short_hostname = context.hostname.substr(0, context.hostname.find('.'));
    context.machine_id = read_machine_id();
    context.boot_id = read_boot_id();
    utsname system{};
    if (uname(&system) == 0) {
        context.kernel_release = system.release;
        context.architecture = architecture_name(system.machine);
    }
    fill_user(context);
    fill_group(context);
    return context;
}

Result<std::string> expand_specifiers(std::string_view text, const SpecifierContext& context) {
    // The unit name is parsed at the first specifier, so that most values, which have none, skip it.
    std::optional<std::optional<UnitName>> unit;
    std::string expanded;
    expanded.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            expanded += text[i];
            continue;
        }
        if (i + 1 == text.size()) {
            return Result<std::string>::fail("'%' at end of value");
        }
        const char specifier = text[++i];
        if (specifier == '%') {
            expanded += '%';
            continue;
        }
        if (!unit) {
            unit = parse_unit_name(context.unit_name);
        }
        const std::optional<std::string> value = resolve(specifier, context, *unit);
        if (!value) {
            return Result<std::string>::fail(std::string("unknown specifier '%") + specifier + "'");
        }
        if (value->empty() && !(*unit && may_be_empty(specifier))) {
            return Result<std::string>::fail(std::string("specifier '%") + specifier +
                                             "' has no value on this host");
        }
        expanded += *value;
    }
    return Result<std::string>::ok(std::move(expanded));
}

}  // namespace gitvisor::unitfile
