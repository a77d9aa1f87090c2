#pragma once
// A message about a unit file, tied to a file and line. Library code collects these and never
// prints; the caller reports them once, in the fixed shapes of STYLE.md:
//   file:line: error: message
//   file:line: warning: message, ignoring

#include <string>
#include <vector>

namespace gitvisor::unitfile {

enum class Severity { Warning, Error };

struct Diagnostic {
    std::string file;
    int line = 0;  // 1-based; 0 when the message concerns the whole file
    Severity severity = Severity::Error;
    std::string message;

    std::string format() const;  // "file:line: error: message" ("file: error: message" for line 0)
    bool operator==(const Diagnostic&) const = default;
};

const char* severity_name(Severity severity);  // "error" / "warning"

using Diagnostics = std::vector<Diagnostic>;

bool has_errors(const Diagnostics& diagnostics);

}  // namespace gitvisor::unitfile
