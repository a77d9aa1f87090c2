#pragma once
// Shared helpers for the unit-file tests: a fixed specifier context and one-call loading.

#include <string>
#include <vector>

#include "unitfile/normalize.h"
#include "unitfile/unit_loader.h"

namespace gitvisor::unitfile::testing {

inline SpecifierContext fixed_context() {
    SpecifierContext c;
    c.hostname = "host1.example.org";
    c.short_hostname = "host1";
    c.machine_id = "0123456789abcdef0123456789abcdef";
    c.boot_id = "fedcba9876543210fedcba9876543210";
    c.kernel_release = "6.1.0";
    c.architecture = "x86-64";
    c.user_name = "root";
    c.uid = "0";
    c.group_name = "root";
    c.gid = "0";
    c.home = "/root";
    c.shell = "/bin/sh";
    return c;
}

inline LoadedUnit load(const std::string& text, const std::string& name = "test.service",
                       const std::vector<UnitFileText>& dropins = {}) {
    return load_unit(name, {name, text}, dropins, fixed_context());
}

// "file:line: severity: message" for every diagnostic, for exact comparisons.
inline std::vector<std::string> messages(const LoadedUnit& u) {
    std::vector<std::string> out;
    for (const Diagnostic& d : u.diagnostics) out.push_back(d.format());
    return out;
}

inline const std::vector<ExecCommand>& exec_of(const LoadedUnit& u, const char* key) {
    static const std::vector<ExecCommand> none;
    const auto* v = u.unit.get<std::vector<ExecCommand>>("Service", key);
    return v ? *v : none;
}

}  // namespace gitvisor::unitfile::testing
