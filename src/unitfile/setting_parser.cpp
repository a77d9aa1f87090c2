#include "unitfile/setting_parser.h"

#include <algorithm>
#include <array>
#include <map>

#include "unitfile/unit_name.h"

namespace gitvisor::unitfile {
namespace {

using Kind = ParsedSetting::Kind;

ParsedSetting ok(Value v) {
    ParsedSetting p;
    p.kind = Kind::Set;
    p.value = std::move(v);
    return p;
}

ParsedSetting invalid(std::string error) {
    ParsedSetting p;
    p.kind = Kind::Invalid;
    p.error = std::move(error);
    return p;
}

ParsedSetting of_kind(Kind kind) {
    ParsedSetting p;
    p.kind = kind;
    return p;
}

template <class T>
ParsedSetting from(const Result<T>& r) {
    if (!r) return invalid(r.error());
    return ok(Value(*r));
}

// One assignment of a list that gitvisor-exec merges as systemd does (SystemCallFilter=...): kept whole.
ParsedSetting assignment(const Result<std::string>& r) {
    if (!r) return invalid(r.error());
    return ok(std::vector<std::string>{*r});
}

bool is_absolute_path(std::string_view p) { return !p.empty() && p.front() == '/'; }

bool has_control_chars(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

// systemd's relaxed user/group name rule: no '/', ':', control characters, not "." or "..", at most 256 bytes;
// also a numeric id.
bool valid_user_or_group(std::string_view name) {
    if (name.empty() || name.size() > 256 || name == "." || name == "..") return false;
    if (name.front() == '-' || has_control_chars(name)) return false;
    return std::none_of(name.begin(), name.end(), [](char c) { return c == '/' || c == ':' || c == ' '; });
}

constexpr std::array kCapabilities = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

}  // namespace

int capability_number(std::string_view name) {
    const auto it = std::find(kCapabilities.begin(), kCapabilities.end(), name);
    return it == kCapabilities.end() ? -1 : static_cast<int>(it - kCapabilities.begin());
}

namespace {

class Parser {
public:
    Parser(const Directive& directive, std::string_view raw, const SpecifierContext& context)
        : m_d(directive), m_raw(raw), m_context(context) {}

    ParsedSetting run() {
        if (m_raw.empty()) return parse_empty();
        switch (m_d.type) {
            case ValueType::Text: return text();
            case ValueType::Path: return path();
            case ValueType::WorkingDir: return working_dir();
            case ValueType::UserName:
            case ValueType::GroupName: return user_or_group();
            case ValueType::Bool: return from(parse_bool(m_raw));
            case ValueType::Enum: return enumeration(false);
            case ValueType::BoolOrEnum: return enumeration(true);
            case ValueType::Timespan: return timespan(false);
            case ValueType::Timeout: return timespan(true);
            case ValueType::Size: return from(parse_size(m_raw, true));
            case ValueType::CountLimit: return from(parse_count_limit(m_raw));
            case ValueType::CpuQuota: return cpu_quota();
            case ValueType::Integer: return from(parse_integer(m_raw, m_d.min, m_d.max));
            case ValueType::Mode: return mode();
            case ValueType::Signal: return signal();
            case ValueType::ExitStatus: return from(parse_exit_status_set(m_raw));
            case ValueType::RLimit: return from(parse_rlimit(m_d.key, m_raw));
            case ValueType::Words: return words();
            case ValueType::UnitNames: return unit_names();
            case ValueType::Paths: return paths(true);
            case ValueType::RelativePaths: return relative_paths();
            case ValueType::EnvFiles: return env_files();
            case ValueType::Capabilities: return capabilities();
            case ValueType::Exec: return exec();
            case ValueType::Environment: return environment();
            case ValueType::Condition: return condition(false);
            case ValueType::PathCondition: return condition(true);
            case ValueType::StdOutput: return std_output();
            case ValueType::Url: return url();
            case ValueType::HostPort: return host_port();
            case ValueType::Ports: return ports();
            case ValueType::SyscallList:
                return assignment(parse_syscall_filter(m_raw));
            case ValueType::ErrnoAction:
                return from(parse_errno_action(m_raw));
            case ValueType::Architectures:
                return from(parse_architectures(m_raw));
            case ValueType::AddressFamilies:
                return assignment(parse_address_families(m_raw));
            case ValueType::Namespaces:
                return assignment(parse_namespaces(m_raw));
        }
        return invalid("unsupported value type");
    }

private:
    ParsedSetting parse_empty() {
        // CapabilityBoundingSet= (empty) is the empty set, not the default (all): an entry that clears.
        if (m_d.type == ValueType::Capabilities) return ok(std::vector<std::string>{""});
        if (m_d.list == ListMode::Append) return of_kind(Kind::Reset);
        if (m_d.list == ListMode::AppendNoReset) {
            ParsedSetting p = of_kind(Kind::Ignore);
            p.warnings.push_back("an empty " + std::string(m_d.key) +
                                 "= does not reset the list (systemd keeps earlier entries), ignoring");
            return p;
        }
        switch (m_d.type) {
            // An empty assignment restores the default where systemd gives it that meaning.
            case ValueType::Text:
            case ValueType::Path:
            case ValueType::WorkingDir:
            case ValueType::UserName:
            case ValueType::GroupName:
            case ValueType::Size:
            case ValueType::CountLimit:
            case ValueType::CpuQuota:
            case ValueType::Integer:
            case ValueType::RLimit:
            case ValueType::Url:
            case ValueType::HostPort:
            case ValueType::Exec:  // a single command (HealthCheckExec=)
            case ValueType::ErrnoAction:  // kill
                return of_kind(Kind::Reset);
            default:
                return invalid(std::string("empty value: expected a ") + value_type_name(m_d.type));
        }
    }

    // Expands specifiers; on failure stores the error and returns false.
    bool expand(std::string_view in, std::string& out) {
        Result<std::string> r = expand_specifiers(in, m_context);
        if (!r) {
            m_error = r.error();
            return false;
        }
        out = std::move(*r);
        return true;
    }

    // Splits into words and expands specifiers in each.
    bool split(std::vector<std::string>& out) {
        Result<std::vector<Word>> words = split_words(m_raw);
        if (!words) {
            m_error = words.error();
            return false;
        }
        for (const Word& w : *words) {
            std::string expanded;
            if (!expand(w.text, expanded)) return false;
            out.push_back(std::move(expanded));
        }
        return true;
    }

    ParsedSetting text() {
        std::string v;
        if (!expand(m_raw, v)) return invalid(m_error);
        return ok(std::move(v));
    }

    ParsedSetting path() {
        std::string v;
        if (!expand(m_raw, v)) return invalid(m_error);
        if (!is_absolute_path(v)) return invalid("not an absolute path: write it starting with '/'");
        return ok(std::move(v));
    }

    ParsedSetting working_dir() {
        std::string v;
        if (!expand(m_raw, v)) return invalid(m_error);
        std::string_view rest = v;
        if (!rest.empty() && rest.front() == '-') rest.remove_prefix(1);
        if (rest != "~" && !is_absolute_path(rest))
            return invalid("not an absolute path or '~' (optionally prefixed by '-')");
        return ok(std::move(v));
    }

    ParsedSetting user_or_group() {
        std::string v;
        if (!expand(m_raw, v)) return invalid(m_error);
        if (!valid_user_or_group(v))
            return invalid(std::string("not a valid ") + (m_d.type == ValueType::UserName ? "user" : "group") +
                           " name or numeric id");
        return ok(std::move(v));
    }

    std::string expected_values(bool with_bool) const {
        std::string list = with_bool ? "yes, no, " : "";
        for (size_t i = 0; i < m_d.values.size(); ++i) list += (i ? ", " : "") + std::string(m_d.values[i]);
        for (std::string_view u : m_d.unsupported_values) list += ", " + std::string(u);
        return "expected one of " + list;
    }

    ParsedSetting enumeration(bool with_bool) {
        if (with_bool) {
            if (Result<bool> b = parse_bool(m_raw)) return ok(std::string(*b ? "yes" : "no"));
        }
        for (std::string_view v : m_d.values)
            if (v == m_raw) return ok(std::string(v));
        for (std::string_view v : m_d.unsupported_values) {
            if (v == m_raw) {
                ParsedSetting p = ok(std::string(v));
                p.warnings.push_back(std::string(m_d.key) + "=" + std::string(v) +
                                     " is not supported by gitvisor, ignoring");
                p.kind = Kind::Ignore;
                return p;
            }
        }
        return invalid(expected_values(with_bool) + " (values are case-sensitive)");
    }

    ParsedSetting timespan(bool zero_is_infinity) {
        Result<uint64_t> r = parse_timespan(m_raw);
        if (!r) return invalid(r.error());
        const uint64_t usec = (zero_is_infinity && *r == 0) ? kInfinity : *r;
        return ok(Duration{usec});
    }

    ParsedSetting cpu_quota() {
        Result<uint64_t> r = parse_cpu_quota(m_raw);
        if (!r) return invalid(r.error());
        // Stored as a percentage in hundredths, the form the user wrote.
        return ok(Limit{Limit::Kind::Percent, *r / 100});
    }

    ParsedSetting mode() {
        Result<uint32_t> r = parse_mode(m_raw);
        if (!r) return invalid(r.error());
        return ok(Mode{*r});
    }

    ParsedSetting signal() {
        Result<int> r = parse_signal(m_raw);
        if (!r) return invalid(r.error());
        return ok(Signal{*r});
    }

    ParsedSetting words() {
        std::vector<std::string> out;
        if (!split(out)) return invalid(m_error);
        return ok(std::move(out));
    }

    ParsedSetting unit_names() {
        std::vector<std::string> out;
        if (!split(out)) return invalid(m_error);
        for (const std::string& name : out)
            if (!is_valid_unit_name(name))
                return invalid("'" + name + "' is not a valid unit name (e.g. web.service, worker@1.service)");
        return ok(std::move(out));
    }

    ParsedSetting paths(bool allow_prefix) {
        std::vector<std::string> out;
        if (!split(out)) return invalid(m_error);
        for (const std::string& p : out) {
            std::string_view rest = p;
            while (allow_prefix && !rest.empty() && (rest.front() == '-' || rest.front() == '+'))
                rest.remove_prefix(1);
            if (!is_absolute_path(rest)) return invalid("'" + p + "' is not an absolute path");
        }
        return ok(std::move(out));
    }

    ParsedSetting url() {
        std::string v;
        if (!expand(m_raw, v)) return invalid(m_error);
        if (has_control_chars(v) || v.find(' ') != std::string::npos) return invalid("a URL has no spaces");
        const bool https = v.starts_with("https://");
        if (!https && !v.starts_with("http://")) return invalid("not an http:// or https:// URL");
        const std::string_view rest = std::string_view(v).substr(https ? 8 : 7);
        const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
        if (authority.empty() || authority.front() == ':') return invalid("the URL names no host");
        if (authority.find('@') != std::string_view::npos)
            return invalid("user names and passwords in the URL are not supported");
        const size_t colon = authority.rfind(':');
        if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos &&
            !valid_port(authority.substr(colon + 1)))
            return invalid("'" + std::string(authority.substr(colon + 1)) + "' is not a port (1-65535)");
        return ok(std::move(v));
    }

    ParsedSetting host_port() {
        std::string v;
        if (!expand(m_raw, v)) return invalid(m_error);
        const size_t colon = v.rfind(':');
        if (colon == std::string::npos || colon == 0) return invalid("expected host:port, e.g. 127.0.0.1:8080");
        std::string_view host = std::string_view(v).substr(0, colon);
        if (host.front() == '[') {
            if (host.back() != ']' || host.size() < 3) return invalid("an IPv6 address is written [::1]:port");
        } else if (host.find(':') != std::string_view::npos) {
            return invalid("write an IPv6 address in brackets: [::1]:port");
        }
        if (has_control_chars(host) || host.find(' ') != std::string_view::npos)
            return invalid("the host has spaces or control characters");
        if (!valid_port(std::string_view(v).substr(colon + 1)))
            return invalid("'" + v.substr(colon + 1) + "' is not a port (1-65535)");
        return ok(std::move(v));
    }

    ParsedSetting ports() {
        std::vector<std::string> out;
        if (!split(out)) return invalid(m_error);
        for (const std::string& p : out)
            if (!valid_port(p)) return invalid("'" + p + "' is not a port (1-65535)");
        return ok(std::move(out));
    }

    static bool valid_port(std::string_view text) {
        if (text.empty() || text.size() > 5) return false;
        int port = 0;
        for (char c : text) {
            if (c < '0' || c > '9') return false;
            port = port * 10 + (c - '0');
        }
        return port >= 1 && port <= 65535;
    }

    ParsedSetting relative_paths() {
        std::vector<std::string> out;
        if (!split(out)) return invalid(m_error);
        for (const std::string& p : out) {
            if (is_absolute_path(p) || p == ".." || p.starts_with("../") || p.ends_with("/..") ||
                p.find("/../") != std::string::npos)
                return invalid("'" + p + "' must be a relative path without '..'");
        }
        return ok(std::move(out));
    }

    ParsedSetting env_files() {
        std::string v;
        if (!expand(m_raw, v)) return invalid(m_error);
        std::string_view rest = v;
        if (!rest.empty() && rest.front() == '-') rest.remove_prefix(1);
        if (!is_absolute_path(rest)) return invalid("not an absolute path (prefix it with '-' to make it optional)");
        return ok(std::vector<std::string>{std::move(v)});
    }

    ParsedSetting capabilities() {
        std::vector<std::string> words;
        if (!split(words)) return invalid(m_error);
        std::string line;
        for (size_t i = 0; i < words.size(); ++i) {
            std::string_view name = words[i];
            if (i == 0 && name.starts_with("~")) {
                line += "~";
                name.remove_prefix(1);
                if (name.empty()) continue;
            }
            if (capability_number(name) < 0)
                return invalid("unknown capability '" + std::string(name) + "' (names look like CAP_NET_ADMIN)");
            if (!line.empty() && line != "~") line += " ";
            line += name;
        }
        return ok(std::vector<std::string>{line});
    }

    ParsedSetting exec() {
        Result<std::vector<ExecCommand>> commands = parse_exec(m_raw);
        if (!commands) return invalid(commands.error());
        for (ExecCommand& c : *commands) {
            if (!expand(c.path, c.path)) return invalid(m_error);
            for (std::string& arg : c.argv)
                if (!expand(arg, arg)) return invalid(m_error);
        }
        if (commands->empty()) return of_kind(Kind::Reset);
        return ok(std::move(*commands));
    }

    ParsedSetting environment() {
        auto assignments = parse_environment(m_raw);
        if (!assignments) return invalid(assignments.error());
        EnvironmentMap env;
        for (auto& [name, value] : *assignments) {
            std::string expanded;
            if (!expand(value, expanded)) return invalid(m_error);
            env[name] = std::move(expanded);
        }
        return ok(std::move(env));
    }

    ParsedSetting condition(bool wants_path) {
        Condition c;
        std::string_view rest = m_raw;
        if (!rest.empty() && rest.front() == '|') {
            c.trigger = true;
            rest.remove_prefix(1);
        }
        if (!rest.empty() && rest.front() == '!') {
            c.negate = true;
            rest.remove_prefix(1);
        }
        if (!expand(rest, c.value)) return invalid(m_error);
        if (c.value.empty()) return invalid("nothing after the '|' and '!' prefixes");
        if (wants_path && !is_absolute_path(c.value)) return invalid("not an absolute path");
        return ok(std::vector<Condition>{std::move(c)});
    }

    ParsedSetting std_output() {
        static constexpr std::array kSupported = {"inherit", "null", "journal"};
        static constexpr std::array kUnsupported = {"tty", "kmsg", "journal+console", "kmsg+console", "socket"};
        for (const char* v : kSupported)
            if (m_raw == v) return ok(std::string(v));
        for (const char* prefix : {"file:", "append:", "truncate:"}) {
            if (m_raw.starts_with(prefix)) {
                std::string path;
                if (!expand(m_raw.substr(std::string_view(prefix).size()), path)) return invalid(m_error);
                if (!is_absolute_path(path)) return invalid(std::string("the path after '") + prefix + "' must be absolute");
                return ok(std::string(prefix) + path);
            }
        }
        const bool known = std::find(kUnsupported.begin(), kUnsupported.end(), m_raw) != kUnsupported.end() ||
                           m_raw.starts_with("fd:");
        if (known) {
            ParsedSetting p = of_kind(Kind::Ignore);
            p.warnings.push_back(std::string(m_d.key) + "=" + std::string(m_raw) +
                                 " is not supported by gitvisor (output goes to the unit's log), ignoring");
            return p;
        }
        return invalid("expected inherit, null, journal, file:PATH, append:PATH or truncate:PATH");
    }

    const Directive& m_d;
    std::string_view m_raw;
    const SpecifierContext& m_context;
    std::string m_error;
};

}  // namespace

ParsedSetting parse_setting(const Directive& directive, std::string_view raw, const SpecifierContext& context) {
    return Parser(directive, raw, context).run();
}

}  // namespace gitvisor::unitfile

namespace gitvisor::unitfile {

const Value* directive_default(std::string_view section, std::string_view key) {
    static const auto defaults = [] {
        std::map<std::pair<std::string_view, std::string_view>, Value> out;
        const SpecifierContext none;
        for (const Directive& d : all_directives()) {
            if (d.default_value.empty()) continue;
            ParsedSetting p = parse_setting(d, d.default_value, none);
            if (p.kind == ParsedSetting::Kind::Set) out.emplace(std::make_pair(d.section, d.key), std::move(p.value));
        }
        return out;
    }();
    auto it = defaults.find({section, key});
    return it == defaults.end() ? nullptr : &it->second;
}

}  // namespace gitvisor::unitfile
