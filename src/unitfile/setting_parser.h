#pragma once
// Parses the value of one assignment according to its directive-table row.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "unitfile/directives.h"
#include "unitfile/specifiers.h"
#include "unitfile/unit.h"

namespace gitvisor::unitfile {

struct ParsedSetting {
    enum class Kind { Set, Reset, Ignore, Invalid };
    Kind kind = Kind::Invalid;
    Value value;                        // for Kind::Set
    std::string error;                  // for Kind::Invalid: a phrase after "invalid value 'v' for Key=: "
    std::vector<std::string> warnings;  // full messages, each ending in ", ignoring" or saying what happens
};

// `raw` is the value as written (trimmed); specifiers are expanded with `context` where systemd expands them.
ParsedSetting parse_setting(const Directive& directive, std::string_view raw, const SpecifierContext& context);

}  // namespace gitvisor::unitfile

namespace gitvisor::unitfile {

// The parsed default of a directive (its table row's default_value), or nullptr when it has none.
const Value* directive_default(std::string_view section, std::string_view key);

// The unit's value, else the directive's default, else `fallback`; also `fallback` on a type mismatch.
template <class T>
T value_or_default(const Unit& unit, const std::string& section, const std::string& key, T fallback) {
    if (const T* v = unit.get<T>(section, key)) return *v;
    if (const Value* d = directive_default(section, key))
        if (const T* v = std::get_if<T>(d)) return *v;
    return fallback;
}

}  // namespace gitvisor::unitfile
