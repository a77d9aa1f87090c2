#pragma once
// %-specifiers, substituted when a unit is loaded (SYSTEMD-SYNTAX.md §13, man systemd.unit "SPECIFIERS").

#include <string>
#include <string_view>

#include "common/result.h"

namespace gitvisor::unitfile {

// Everything a specifier can resolve to. Fill with for_host(), then override fields in tests.
struct SpecifierContext {
    std::string unit_name;  // "tpl@a\x2db.service": gives %n %N %p %P %i %I %j %J %f
    std::string hostname;        // %H
    std::string short_hostname;  // %l (hostname up to the first '.')
    std::string machine_id;      // %m (/etc/machine-id)
    std::string boot_id;         // %b (/proc/sys/kernel/random/boot_id, without dashes)
    std::string kernel_release;  // %v
    std::string architecture;    // %a ("x86-64", "arm64", ... as systemd names them)
    std::string user_name;       // %u  (the manager's user: root)
    std::string uid;             // %U
    std::string group_name;      // %g
    std::string gid;             // %G
    std::string home;            // %h
    std::string shell;           // %s
    std::string runtime_dir = "/run";     // %t
    std::string state_dir = "/var/lib";   // %S
    std::string cache_dir = "/var/cache"; // %C
    std::string logs_dir = "/var/log";    // %L
    std::string config_dir = "/etc";      // %E
    std::string temp_dir = "/tmp";        // %T
    std::string var_temp_dir = "/var/tmp";  // %V
    std::string fragment_path;   // %y (the unit file's path as the caller names it)

    // The values of this host and process (gethostname, uname, getpwuid(getuid()), /etc/machine-id, ...);
    // fields that cannot be read are left empty, and using their specifier is an error.
    static SpecifierContext for_host(std::string unit_name);
};

// Replaces every %X in `text`; "%%" is '%'. Supported: n N p P i I j J f H l m b v a u U g G h s t S C L E
// T V y Y. Errors: "unknown specifier '%Z'", "specifier '%m' has no value on this host", "'%' at end of value".
Result<std::string> expand_specifiers(std::string_view text, const SpecifierContext& context);

}  // namespace gitvisor::unitfile
