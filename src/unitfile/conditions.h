#pragma once
// Evaluating Condition*= lists as systemd does (systemd.unit(5)). gitvisord evaluates ConditionHost= at
// deploy time: one repository serves a fleet, and each host runs only the units meant for it.

#include <functional>
#include <string>
#include <vector>

#include "unitfile/unit.h"

namespace gitvisor::unitfile {

// Every non-triggering entry holds (after '!'), and at least one triggering ('|') entry when there are any.
// An empty list holds.
bool conditions_hold(const std::vector<Condition>& conditions, const std::function<bool(const std::string&)>& test);

// ConditionHost=: each value is matched against the host name as a shell glob, ignoring case, or, when it is
// a machine ID (32 hex digits, dashes allowed), against `machine_id`.
bool host_condition_holds(const Unit& unit, const std::string& hostname, const std::string& machine_id);

}  // namespace gitvisor::unitfile
