#include "unitfile/diagnostic.h"

#include <algorithm>

namespace gitvisor::unitfile {

const char* severity_name(Severity severity) { return severity == Severity::Error ? "error" : "warning"; }

std::string Diagnostic::format() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
    out += severity_name(severity);
    out += ": ";
    out += message;
    return out;
}

bool has_errors(const Diagnostics& diagnostics) {
    return std::any_of(diagnostics.begin(), diagnostics.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

}  // namespace gitvisor::unitfile
