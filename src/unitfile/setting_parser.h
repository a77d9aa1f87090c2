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
