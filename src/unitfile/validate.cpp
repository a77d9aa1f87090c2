// Service-level rules of systemd.service(5) that no single directive can check (SYSTEMD-SYNTAX.md §1.12, §6).

#include "unitfile/unit_loader.h"

namespace gitvisor::unitfile {
namespace {

size_t command_count(const Unit& unit, const char* key) {
    const auto* commands = unit.get<std::vector<ExecCommand>>("Service", key);
    return commands ? commands->size() : 0;
}

// The best place to point at for a rule about the whole service.
SourceLine anchor(const Unit& unit, const char* key) {
    if (const Setting* s = unit.find("Service", key)) return {s->file, s->line};
    if (auto it = unit.headers.find("Service"); it != unit.headers.end()) return it->second;
    return {unit.file, 0};
}

}  // namespace

std::string implied_type(const Unit& unit) { return command_count(unit, "ExecStart") > 0 ? "simple" : "oneshot"; }

std::string effective_type(const Unit& unit) {
    if (const auto* type = unit.get<std::string>("Service", "Type")) return *type;
    return implied_type(unit);
}

void validate_service(const Unit& unit, Diagnostics& diagnostics) {
    const auto error = [&](SourceLine where, std::string message) {
        diagnostics.push_back({where.file, where.line, Severity::Error, std::move(message)});
    };
    const std::string type = effective_type(unit);
    const size_t starts = command_count(unit, "ExecStart");
    const size_t stops = command_count(unit, "ExecStop");

    if (starts == 0 && stops == 0 && unit.ignored.count("SuccessAction")) {
        // systemd accepts a unit whose only effect is SuccessAction= (e.g. reboot); under gitvisor it does nothing.
        const SourceLine where = anchor(unit, "Type");
        diagnostics.push_back({where.file, where.line, Severity::Warning,
                               "service has no ExecStart= and only a SuccessAction=, which gitvisor does not "
                               "support: it will do nothing, ignoring"});
    } else if (starts == 0 && stops == 0) {
        error(anchor(unit, "Type"),
              "service has no ExecStart= and no ExecStop=: add ExecStart=/path/to/program");
    } else if (starts == 0 && type != "oneshot") {
        error(anchor(unit, "Type"), "service has no ExecStart=, which only Type=oneshot allows");
    } else if (starts > 1 && type != "oneshot") {
        error(anchor(unit, "ExecStart"),
              "Type=" + type + " allows exactly one ExecStart= command, found " + std::to_string(starts) +
                  " (use Type=oneshot to run several, or ExecStart= to reset the list in a drop-in)");
    }

    if (type == "oneshot") {
        if (const auto* restart = unit.get<std::string>("Service", "Restart");
            restart && (*restart == "always" || *restart == "on-success")) {
            error(anchor(unit, "Restart"),
                  "Restart=" + *restart + " is not allowed with Type=oneshot (use on-failure, or Type=simple)");
        }
    }
}

}  // namespace gitvisor::unitfile
