#include "unitfile/repo_settings.h"

#include "unitfile/ini_reader.h"
#include "unitfile/values.h"

namespace gitvisor::unitfile {

RepoSettings parse_repo_settings(std::string_view text, const std::string& file, Diagnostics& diagnostics) {
    RepoSettings settings;
    IniDocument doc = read_ini(text, file);
    for (Diagnostic& d : doc.diagnostics) diagnostics.push_back(std::move(d));
    const auto error = [&](const Assignment& a, const std::string& why) {
        diagnostics.push_back({file, a.line, Severity::Error,
                               "invalid value '" + a.value + "' for " + a.key + "= in [" + a.section + "]: " + why});
    };
    for (const SectionHeader& s : doc.sections)
        if (s.name != "Deploy")
            diagnostics.push_back({file, s.line, Severity::Warning, "unknown section [" + s.name + "], ignoring"});
    for (const Assignment& a : doc.assignments) {
        if (a.section != "Deploy") continue;
        if (a.key == "Timeout" || a.key == "MinReadySec") {
            const Result<uint64_t> t = parse_timespan(a.value);
            if (!t) {
                error(a, t.error());
                continue;
            }
            if (a.key == "Timeout") {
                if (*t == 0 || *t == kInfinity) {
                    error(a, "must be a finite time above 0");
                    continue;
                }
                settings.deploy.timeout_usec = *t;
            } else {
                if (*t == kInfinity) {
                    error(a, "must be a finite time");
                    continue;
                }
                settings.deploy.min_ready_usec = *t;
            }
        } else if (a.key == "AutoRollback") {
            const Result<bool> b = parse_bool(a.value);
            if (!b) {
                error(a, b.error());
                continue;
            }
            settings.deploy.auto_rollback = *b;
        } else {
            diagnostics.push_back({file, a.line, Severity::Warning,
                                   "unknown setting '" + a.key + "=' in [Deploy] (known: Timeout=, AutoRollback=, "
                                   "MinReadySec=), ignoring"});
        }
    }
    return settings;
}

}  // namespace gitvisor::unitfile
