#pragma once
// gitvisor.ini at the root of a unit repository (DESIGN §3): settings for the whole repository.
//
//   [Deploy]
//   Timeout=60s        how long started units have to become active and healthy
//   AutoRollback=no    a failed deploy is rolled back to the last healthy one
//   MinReadySec=       how long a started unit must stay up before the deploy counts it
//                      (default: 1 s with AutoRollback=yes, so a unit that exits at once is caught; else 0)
//
// Same syntax and strictness as unit files: an invalid value is an error (the commit is rejected), an
// unknown key a warning.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "unitfile/diagnostic.h"

namespace gitvisor::unitfile {

struct DeploySettings {
    uint64_t timeout_usec = 60'000'000;
    bool auto_rollback = false;
    std::optional<uint64_t> min_ready_usec;

    uint64_t effective_min_ready_usec() const { return min_ready_usec.value_or(auto_rollback ? 1'000'000 : 0); }
    bool operator==(const DeploySettings&) const = default;
};

struct RepoSettings {
    DeploySettings deploy;
    bool operator==(const RepoSettings&) const = default;
};

inline constexpr const char* kRepoSettingsFile = "gitvisor.ini";

// Parses gitvisor.ini's text; problems go to `diagnostics` naming `file` and the line.
RepoSettings parse_repo_settings(std::string_view text, const std::string& file, Diagnostics& diagnostics);

}  // namespace gitvisor::unitfile
