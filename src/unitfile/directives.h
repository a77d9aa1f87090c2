#pragma once
// The directive table: one row per directive gitvisor understands, naming its section, key, value
// syntax, list behaviour, default and systemd reference (STYLE.md §4). The loader, `gitvisor verify`
// and docs/units.md are all driven by it, so they agree by construction.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gitvisor::unitfile {

enum class ValueType {
    Text,        // free text, specifiers expanded
    Path,        // an absolute path
    WorkingDir,  // an absolute path, "~", optionally prefixed by '-'
    UserName,    // a user name or numeric uid
    GroupName,   // a group name or numeric gid
    Bool,
    Enum,        // one of Directive::values (Directive::unsupported_values warn)
    BoolOrEnum,  // a boolean or one of Directive::values (ProtectSystem=)
    Timespan,    // seconds when bare
    Timeout,     // a time span where 0 also means infinity
    Size,        // bytes (K M G T P E), a percentage of RAM, or infinity
    CountLimit,  // a number, a percentage, or infinity
    CpuQuota,    // "20%"
    Integer,     // within [min, max]
    Mode,        // octal
    Signal,
    ExitStatus,       // exit codes and signal names
    RLimit,           // soft[:hard]
    Words,            // space-separated words, quoting as in systemd.syntax
    UnitNames,        // space-separated unit names
    Paths,            // space-separated absolute paths, each optionally prefixed by '-' or '+'
    RelativePaths,    // space-separated relative paths without ".." (RuntimeDirectory=)
    EnvFiles,         // an absolute path, optionally prefixed by '-'
    Capabilities,     // CAP_* names, optionally the whole list prefixed by '~'
    Exec,             // command lines
    Environment,      // NAME=value words
    Condition,        // '|' and '!' prefixes, then a value
    PathCondition,    // as Condition, the value an absolute path
    StdOutput,        // inherit, null, journal, file:PATH, append:PATH, truncate:PATH
    Url,              // an http:// or https:// URL with a host
    HostPort,         // host:port, [IPv6]:port
    Ports,            // space-separated port numbers
    SyscallList,      // system call names and @groups, optionally the whole list prefixed by '~'
    ErrnoAction,      // an errno name or number, or kill
    Architectures,    // native, x86-64, arm64...
    AddressFamilies,  // AF_* names, optionally prefixed by '~', or none
    Namespaces,       // a boolean, or namespace types optionally prefixed by '~'
};

enum class ListMode {
    Single,         // the last assignment wins
    Append,         // each assignment appends; an empty one resets the list
    AppendNoReset,  // each assignment appends; an empty one is ignored (dependencies)
};

enum class Support {
    Supported,  // gitvisor does what systemd documents
    Inert,      // accepted and validated, has no effect under gitvisor (e.g. [Install]); no warning
};

struct Directive {
    std::string_view section;
    std::string_view key;
    ValueType type;
    ListMode list = ListMode::Single;
    Support support = Support::Supported;
    std::string_view default_value;  // as unit text; empty when there is none or it depends on other settings
    std::string_view summary;
    std::string_view reference;      // the systemd man page that documents it
    std::vector<std::string_view> values;              // Enum / BoolOrEnum
    std::vector<std::string_view> unsupported_values;  // valid for systemd, not implemented: warning
    int64_t min = 0;                 // Integer
    int64_t max = 0;
    std::vector<std::string_view> also_sets;  // TimeoutSec= sets TimeoutStartSec= and TimeoutStopSec=
};

// A directive systemd 252 knows that gitvisor does not implement: a warning, never an error.
struct IgnoredDirective {
    std::string_view section;
    std::string_view key;
    std::string_view reference;
};

std::span<const Directive> all_directives();
std::span<const IgnoredDirective> ignored_directives();

const Directive* find_directive(std::string_view section, std::string_view key);
const IgnoredDirective* find_ignored_directive(std::string_view section, std::string_view key);
bool is_known_section(std::string_view section);  // Unit, Service, Install, X-Gitvisor

// The closest known key in `section` (edit distance, case-insensitive match first), or "".
std::string suggest_key(std::string_view section, std::string_view key);
std::string suggest_section(std::string_view section);

const char* value_type_name(ValueType type);  // "time span", "boolean", ...

// docs/units.md, generated from the table.
std::string render_directives_markdown();

}  // namespace gitvisor::unitfile
