#pragma once
// The units of a whole tree (a commit, or folders given to `gitvisor verify`): which files are units,
// template instances made by symlinks, drop-ins, and the checks that need every unit at once
// (DESIGN §3): duplicate names, dependencies on absent units, ordering cycles.

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "unitfile/diagnostic.h"
#include "unitfile/repo_settings.h"
#include "unitfile/specifiers.h"
#include "unitfile/unit_loader.h"

namespace gitvisor::unitfile {

// One file of the tree. `path` is relative to the tree's root (or as the user named it) with '/'.
struct TreeFile {
    std::string path;
    std::string text;            // contents; for a symlink, empty
    bool is_symlink = false;
    std::string symlink_target;  // for a symlink, as stored in the link
    std::string blob_id;         // the git blob's id when read from a commit ("" otherwise): a short cache key
};

// Loaded units, shared: a UnitCache and the sets loaded through it hold the same units, so a load that
// changes one unit of 10,000 neither copies nor frees the others. Reads as a list of LoadedUnit.
class UnitList {
public:
    using Shared = std::shared_ptr<const LoadedUnit>;
    class const_iterator {
    public:
        explicit const_iterator(std::vector<Shared>::const_iterator it) : m_it(it) {}
        const LoadedUnit& operator*() const { return **m_it; }
        const LoadedUnit* operator->() const { return m_it->get(); }
        const_iterator& operator++() {
            ++m_it;
            return *this;
        }
        bool operator==(const const_iterator& other) const { return m_it == other.m_it; }
        bool operator!=(const const_iterator& other) const { return m_it != other.m_it; }

    private:
        std::vector<Shared>::const_iterator m_it;
    };

    const_iterator begin() const { return const_iterator(m_units.begin()); }
    const_iterator end() const { return const_iterator(m_units.end()); }
    size_t size() const { return m_units.size(); }
    bool empty() const { return m_units.empty(); }
    const LoadedUnit& operator[](size_t i) const { return *m_units[i]; }
    void push_back(Shared unit) { m_units.push_back(std::move(unit)); }

private:
    std::vector<Shared> m_units;
};

// Units loaded before, by everything they were loaded from (names, file and drop-in texts, host values):
// a long-lived loader (gitvisord) parses only the units a commit changed. After each load it holds just
// that load's units. Not thread-safe.
struct UnitCache {
    std::string context;  // the host values the units were loaded with; other values empty the cache
    std::unordered_map<std::string, UnitList::Shared> units;
};

struct UnitSetOptions {
    SpecifierContext context;  // host values; unit_name is filled per unit
    // Checks across units (names, dependencies, cycles); off for `gitvisor verify FILE...`.
    bool repository_checks = true;
    // With a cache, each LoadedUnit's spec_hash is filled as well.
    UnitCache* cache = nullptr;
    // The path (as in TreeFile::path) of the repository's settings: gitvisor.ini at the root of a commit,
    // or beside the units of a folder given to `gitvisor verify`.
    std::string settings_file = kRepoSettingsFile;
};

struct UnitSet {
    UnitList units;      // units that run: plain units and template instances, by name
    UnitList templates;  // NAME@.service files (validated, never run themselves)
    std::vector<std::string> masked;    // names of masked units (empty file, or a symlink to /dev/null)
    RepoSettings settings;              // gitvisor.ini at the root (defaults when there is none)
    Diagnostics diagnostics;            // everything: per-unit and across units, in file order
    std::vector<std::string> parsed;    // the units parsed by this load: all of them, or with a UnitCache
                                        // those whose files changed
    bool ok() const { return !has_errors(diagnostics); }
};

UnitSet load_unit_set(const std::vector<TreeFile>& files, const UnitSetOptions& options);

// The drop-in directories that apply to `unit_name`, lowest precedence first:
// "service.d", "foo-.service.d" ..., "foo@.service.d", "foo@bar.service.d".
std::vector<std::string> dropin_dirs_for(const std::string& unit_name);

}  // namespace gitvisor::unitfile
