#pragma once
// Loads one unit from its file and drop-ins: reads the line structure (ini_reader), parses each
// assignment through the directive table, merges repeated keys as systemd does, then validates the
// service as a whole. Pure: the caller supplies the texts.

#include <string>
#include <vector>

#include "unitfile/diagnostic.h"
#include "unitfile/specifiers.h"
#include "unitfile/unit.h"

namespace gitvisor::unitfile {

struct UnitFileText {
    std::string path;  // as it should appear in diagnostics
    std::string text;
};

struct LoadedUnit {
    Unit unit;
    Diagnostics diagnostics;
    bool masked = false;  // the main file is empty: the unit is masked and does not run
    std::string spec_hash;  // normalize.h's spec_hash(unit), filled by load_unit_set with a UnitCache
    bool ok() const { return !has_errors(diagnostics); }
};

// `name` is the unit's name ("web.service", "worker@2.service"); `context.unit_name` is set from it.
// Drop-ins are applied in the order given.
LoadedUnit load_unit(const std::string& name, const UnitFileText& main, const std::vector<UnitFileText>& dropins,
                     SpecifierContext context);

// Service-level rules checked after merging (ExecStart= count per Type=, Restart= with oneshot, ...).
void validate_service(const Unit& unit, Diagnostics& diagnostics);

// Type= in effect: as set, else implied_type().
std::string effective_type(const Unit& unit);
// The Type= a unit has when it sets none: "simple" with an ExecStart=, else "oneshot".
std::string implied_type(const Unit& unit);

}  // namespace gitvisor::unitfile
