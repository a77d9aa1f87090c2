#include "unitfile/conditions.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>

namespace gitvisor::unitfile {
namespace {

// "0123...": 32 hex digits once dashes are removed, lower case; "" when `text` is not a machine ID.
std::string as_machine_id(const std::string& text) {
    std::string id;
    for (const char c : text) {
        if (c == '-') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
        id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return id.size() == 32 ? id : "";
}

}  // namespace

bool conditions_hold(const std::vector<Condition>& conditions, const std::function<bool(const std::string&)>& test) {
    bool any_trigger = false;
    bool trigger_held = false;
    for (const Condition& c : conditions) {
        const bool holds = test(c.value) != c.negate;
        if (c.trigger) {
            any_trigger = true;
            trigger_held = trigger_held || holds;
        } else if (!holds) {
            return false;
        }
    }
    return !any_trigger || trigger_held;
}

bool host_condition_holds(const Unit& unit, const std::string& hostname, const std::string& machine_id) {
    const auto* conditions = unit.get<std::vector<Condition>>("Unit", "ConditionHost");
    if (!conditions) return true;
    const std::string own_id = as_machine_id(machine_id);
    return conditions_hold(*conditions, [&](const std::string& value) {
        const std::string id = as_machine_id(value);
        if (!id.empty() && id == own_id) return true;
        return fnmatch(value.c_str(), hostname.c_str(), FNM_CASEFOLD) == 0;
    });
}

}  // namespace gitvisor::unitfile
