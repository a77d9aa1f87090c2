#pragma once
// The canonical form of a loaded unit: JSON for people and scripts (`gitvisor verify --print`), and the
// spec hash that decides whether a deploy restarts the unit (DESIGN §3). The hash covers the parsed values,
// not the bytes: comments, blank lines, whitespace, the order of different keys and the split into
// drop-ins do not change it; the order of repeated keys does. A value equal to its directive's default
// counts as unset, so `Type=simple` written out or implied hashes the same.

#include <string>

#include "unitfile/unit.h"

namespace gitvisor::unitfile {

std::string value_to_json(const Value& value);

// {"name": ..., "spec_hash": ..., "file": ..., "dropins": [...], "sections": {Section: {Key: value}}}
std::string unit_to_json(const Unit& unit);

// Lower-case hex SHA-256 of the canonical form, prefixed by the format version ("v1:" ...).
std::string spec_hash(const Unit& unit);

}  // namespace gitvisor::unitfile
