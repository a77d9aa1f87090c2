#pragma once
// Unit names, templates and instances, and systemd-escape (SYSTEMD-SYNTAX.md §12).

#include <optional>
#include <string>
#include <string_view>

namespace gitvisor::unitfile {

struct UnitName {
    std::string full;      // "web@a\x2db.service"
    std::string prefix;    // "web" (before '@', or the whole stem)
    std::string instance;  // "a\x2db" (escaped; empty for a template or a plain unit)
    std::string suffix;    // "service"
    bool is_template = false;  // "web@.service"
    bool is_instance = false;  // "web@x.service"
};

// Valid: 1..255 chars of [A-Za-z0-9:_.\-\\] plus at most one '@' in the stem, a known suffix
// (service socket target timer mount path slice scope device swap automount), a non-empty prefix.
std::optional<UnitName> parse_unit_name(std::string_view name);
bool is_valid_unit_name(std::string_view name);

// systemd-escape: '/' -> '-', bytes other than [A-Za-z0-9:_.] -> \xHH, a leading '.' -> \x2e.
std::string escape_unit_component(std::string_view text);
// systemd-escape --path: leading/trailing/doubled '/' dropped first, root is "-".
std::string escape_unit_path(std::string_view path);
// Reverse of escape_unit_component: "-" -> '/', \xHH decoded.
std::string unescape_unit_component(std::string_view text);

}  // namespace gitvisor::unitfile
