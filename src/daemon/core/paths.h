#pragma once
// Where gitvisord keeps things (DESIGN §9). Every path derives from three flags so tests and demos run in
// a temporary directory.

#include <string>

namespace gitvisor::daemon {

struct Paths {
    std::string repo = "/etc/gitvisor/units";
    std::string branch = "main";
    std::string state_dir = "/var/lib/gitvisor";
    std::string run_dir = "/run/gitvisor";

    std::string database() const { return state_dir + "/state.db"; }
    std::string log_file(const std::string& unit) const { return state_dir + "/logs/" + unit + "/current"; }
    std::string control_socket() const { return run_dir + "/control.sock"; }
    std::string unit_dir(const std::string& unit) const { return run_dir + "/units/" + unit; }
    std::string spec_file(const std::string& unit) const { return unit_dir(unit) + "/spec.json"; }
    std::string status_file(const std::string& unit) const { return unit_dir(unit) + "/status"; }
    std::string exec_socket(const std::string& unit) const { return unit_dir(unit) + "/control.sock"; }
};

}  // namespace gitvisor::daemon
