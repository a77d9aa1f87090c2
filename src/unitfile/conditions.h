#pragma once
// Evaluating Condition*= lists as systemd does (systemd.unit(5)). gitvisord evaluates ConditionHost= at
// deploy time: one repository serves a fleet, and each host runs only the units meant for it. The other
// conditions and the asserts are checked each time gitvisord starts the unit, as systemd checks them when
// the start job runs: against the host's file system and gitvisord's own user, environment and machine.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "unitfile/unit.h"

namespace gitvisor::unitfile {

// Every non-triggering entry holds (after '!'), and at least one triggering ('|') entry when there are any.
// An empty list holds.
bool conditions_hold(const std::vector<Condition>& conditions, const std::function<bool(const std::string&)>& test);

// ConditionHost=: each value is matched against the host name as a shell glob, ignoring case, or, when it is
// a machine ID (32 hex digits, dashes allowed), against `machine_id`.
bool host_condition_holds(const Unit& unit, const std::string& hostname, const std::string& machine_id);

// The conditions checked when a unit starts: `prefix` "Condition" (a condition that does not hold skips the
// start) or "Assert" (it fails the start). "" when they hold, else what did not, as an operator reads it:
// "ConditionPathExists=/etc/app.conf was not met". ConditionHost= is the deploy's (above). As in systemd,
// the '|' entries of all kinds form one group of which at least one must hold.
std::string unmet_start_condition(const Unit& unit, std::string_view prefix);

// What one condition kind ("PathExists", "User", ...) says of `value` (without '|' and '!') on this host;
// nullopt for a kind gitvisor does not evaluate.
std::optional<bool> test_condition(std::string_view kind, const std::string& value);

}  // namespace gitvisor::unitfile
