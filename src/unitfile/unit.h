#pragma once
// The typed, normalised form of a unit: every directive that was set, with its parsed value and the
// place of its last assignment. Directives that were not set are absent; their defaults come from the
// directive table (directives.h).

#include <map>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "unitfile/values.h"
#include "unitfile/words.h"

namespace gitvisor::unitfile {

struct Duration {
    uint64_t usec = 0;  // kInfinity for "infinity"
    bool operator==(const Duration&) const = default;
};

struct Signal {
    int number = 0;
    bool operator==(const Signal&) const = default;
};

struct Mode {
    uint32_t bits = 0;
    bool operator==(const Mode&) const = default;
};

// One Condition*= / Assert*= entry.
struct Condition {
    bool trigger = false;  // '|': at least one triggering condition must hold
    bool negate = false;   // '!'
    std::string value;
    bool operator==(const Condition&) const = default;
};

// Environment= after normalisation: the last assignment of each name wins, names sorted.
using EnvironmentMap = std::map<std::string, std::string>;

using Value = std::variant<std::string,                // Text, Path, Enum
                           bool,                       // Bool
                           int64_t,                    // Integer
                           Duration,                   // Timespan
                           Limit,                      // Size, CountLimit
                           Signal,                     // Signal
                           Mode,                       // Mode
                           RLimit,                     // RLimit
                           ExitStatusSet,              // ExitStatus
                           std::vector<std::string>,   // lists of words, paths, unit names
                           std::vector<ExecCommand>,   // Exec*=
                           EnvironmentMap,             // Environment=
                           std::vector<Condition>>;    // Condition*=, Assert*=

struct Setting {
    Value value;
    std::string file;  // where it was (last) assigned
    int line = 0;
};

struct SourceLine {
    std::string file;
    int line = 0;
};

struct Unit {
    std::string name;  // "web.service", "worker@2.service"
    std::string file;  // the main unit file, as the caller named it
    std::vector<std::string> dropins;  // drop-in files applied, in order
    // section -> key -> setting; X- sections keep their raw values as lists of strings.
    std::map<std::string, std::map<std::string, Setting>> sections;
    std::map<std::string, SourceLine> headers;  // where each section first appears
    std::set<std::string> ignored;              // keys known to systemd that gitvisor ignored (with a warning)


    const Setting* find(const std::string& section, const std::string& key) const;
    // The value if set and of type T, else nullptr (use directives.h for defaults).
    template <class T>
    const T* get(const std::string& section, const std::string& key) const {
        const Setting* s = find(section, key);
        return s ? std::get_if<T>(&s->value) : nullptr;
    }
};

}  // namespace gitvisor::unitfile
