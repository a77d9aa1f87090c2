#include "unitfile/unit_set.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "unitfile/normalize.h"
#include "unitfile/unit_name.h"

namespace gitvisor::unitfile {
namespace {

std::string base_name(std::string_view path) {
    const size_t slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string dir_name(std::string_view path) {
    const size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

constexpr const char* kTemplateCheckInstance = "instance";

bool is_dropin(const TreeFile& f) {
    return f.path.ends_with(".conf") && base_name(dir_name(f.path)).ends_with(".d") && !f.is_symlink;
}

// Drop-in files by the name of their directory ("web.service.d" -> files).
using DropinIndex = std::map<std::string, std::vector<const TreeFile*>>;

class SetLoader {
public:
    SetLoader(const std::vector<TreeFile>& files, const UnitSetOptions& options) : m_files(files), m_options(options) {}

    UnitSet run() {
        if (m_options.cache) {
            std::string context = context_key(m_options.context);
            if (context != m_options.cache->context) {
                m_options.cache->units.clear();
                m_options.cache->context = std::move(context);
            }
        }
        index();
        // By name; a name several files give is loaded (and reported) once.
        std::vector<const TreeFile*> group;
        for (size_t i = 0; i < m_by_name.size();) {
            group.clear();
            size_t j = i;
            for (; j < m_by_name.size() && m_by_name[j].name == m_by_name[i].name; ++j) group.push_back(m_by_name[j].file);
            load_name(m_by_name[i].name, group);
            i = j;
        }
        if (m_options.repository_checks) {
            check_dependencies();
            check_cycles();
        }
        if (m_options.cache) m_options.cache->units.swap(m_used);
        std::stable_sort(m_set.diagnostics.begin(), m_set.diagnostics.end(),
                         [](const Diagnostic& a, const Diagnostic& b) {
                             return a.file != b.file ? a.file < b.file : a.line < b.line;
                         });
        return std::move(m_set);
    }

private:
    void report(std::string file, int line, Severity severity, std::string message) {
        m_set.diagnostics.push_back({std::move(file), line, severity, std::move(message)});
    }

    void index() {
        for (const TreeFile& f : m_files) {
            if (f.path == m_options.settings_file && !f.is_symlink) {
                m_set.settings = parse_repo_settings(f.text, f.path, m_set.diagnostics);
            } else if (is_dropin(f)) {
                m_dropins[base_name(dir_name(f.path))].push_back(&f);
            } else if (f.path.ends_with(".service") && !base_name(dir_name(f.path)).ends_with(".d")) {
                m_by_name.push_back({base_name(f.path), &f});
            }
        }
        // A sorted list rather than a map: a 10,000-unit tree is indexed on every deploy.
        std::stable_sort(m_by_name.begin(), m_by_name.end(),
                         [](const Named& a, const Named& b) { return a.name < b.name; });
    }

    std::vector<UnitFileText> dropins_for(const std::string& unit_name) {
        if (m_dropins.empty()) return {};  // most trees have none: no directory names to build
        // Same file name in several directories: the more specific directory wins (later in the list).
        std::map<std::string, const TreeFile*> by_file;
        for (const std::string& dir : dropin_dirs_for(unit_name)) {
            auto it = m_dropins.find(dir);
            if (it == m_dropins.end()) continue;
            for (const TreeFile* f : it->second) by_file[base_name(f->path)] = f;
        }
        std::vector<UnitFileText> out;
        for (const auto& [file_name, f] : by_file) out.push_back({f->path, f->text});
        return out;
    }

    const TreeFile* template_file(const std::string& template_name) {
        const auto first = std::lower_bound(m_by_name.begin(), m_by_name.end(), template_name,
                                            [](const Named& a, const std::string& name) { return a.name < name; });
        if (first == m_by_name.end() || first->name != template_name) return nullptr;
        const auto next = first + 1;
        if ((next != m_by_name.end() && next->name == template_name) || first->file->is_symlink) return nullptr;
        return first->file;
    }

    void load_name(const std::string& name, const std::vector<const TreeFile*>& files) {
        if (files.size() > 1 && m_options.repository_checks) {
            for (const TreeFile* f : files) {
                std::string others;
                for (const TreeFile* g : files)
                    if (g != f) others += (others.empty() ? "" : ", ") + g->path;
                report(f->path, 0, Severity::Error,
                       "duplicate unit name '" + name + "': also defined by " + others + " (unit names must be unique)");
            }
            return;
        }
        for (const TreeFile* f : files) load_file(name, *f);
    }

    void load_file(const std::string& name, const TreeFile& f) {
        const std::optional<UnitName> parsed = parse_unit_name(name);
        if (!parsed) {
            report(f.path, 0, Severity::Error,
                   "'" + name + "' is not a valid unit name (letters, digits, ':', '-', '_', '.', '\\', one '@')");
            return;
        }
        const TreeFile* source = &f;
        if (f.is_symlink) {
            if (f.symlink_target == "/dev/null") {
                m_set.masked.push_back(name);
                return;
            }
            const std::string target = base_name(f.symlink_target);
            const std::string template_name = parsed->prefix + "@." + parsed->suffix;
            if (!parsed->is_instance || target != template_name) {
                // systemd reads such a link as an alias; gitvisor runs every unit under one name only.
                report(f.path, 0, Severity::Warning,
                       "symlink to '" + f.symlink_target + "' is an alias; gitvisor runs units only under their own "
                       "name (instances link NAME@INSTANCE.service -> NAME@.service), ignoring");
                return;
            }
            source = template_file(template_name);
            if (!source) {
                report(f.path, 0, Severity::Error,
                       "instance of '" + template_name + "', which is not in the tree (or is not a regular file)");
                return;
            }
        }
        // A template is checked as if instantiated, so that "%i.device" or "User=%i" read as they will run.
        const std::string load_name =
            parsed->is_template ? parsed->prefix + "@" + kTemplateCheckInstance + "." + parsed->suffix : name;
        const std::vector<UnitFileText> dropins = dropins_for(name);
        const auto load = [&] {
            LoadedUnit fresh = load_unit(load_name, {source->path, source->text}, dropins, m_options.context);
            fresh.unit.name = name;
            if (f.is_symlink) fresh.unit.file = f.path + " -> " + source->path;
            if (m_options.cache) fresh.spec_hash = spec_hash(fresh.unit);
            return std::make_shared<const LoadedUnit>(std::move(fresh));
        };
        UnitList::Shared loaded;
        if (m_options.cache) {
            const std::string& content = source->blob_id.empty() ? source->text : source->blob_id;
            std::string key;
            key.reserve(name.size() + f.path.size() + load_name.size() + source->path.size() + content.size() + 4);
            for (const std::string* part : {&name, &f.path, &load_name, &source->path}) {
                key += *part;
                key += '\0';
            }
            key += content;
            for (const UnitFileText& d : dropins) {
                key += '\0';
                key += d.path;
                key += '\0';
                key += d.text;
            }
            // The cache's entry moves to its next content as it is; the set shares it.
            auto node = m_options.cache->units.extract(key);
            if (node.empty()) {
                loaded = load();
                m_set.parsed.push_back(name);
                m_used.emplace(std::move(key), loaded);
            } else {
                loaded = node.mapped();
                m_used.insert(std::move(node));
            }
        } else {
            loaded = load();
            m_set.parsed.push_back(name);
        }
        for (const Diagnostic& d : loaded->diagnostics) m_set.diagnostics.push_back(d);
        if (loaded->masked) {
            m_set.masked.push_back(name);
        } else if (parsed->is_template) {
            m_set.templates.push_back(std::move(loaded));
        } else {
            m_by_unit_name[name] = loaded.get();
            m_set.units.push_back(std::move(loaded));
        }
    }

    const LoadedUnit* find_unit(const std::string& name) const {
        auto it = m_by_unit_name.find(name);
        return it == m_by_unit_name.end() ? nullptr : it->second;
    }

    bool is_masked(const std::string& name) const {
        return std::find(m_set.masked.begin(), m_set.masked.end(), name) != m_set.masked.end();
    }

    // The unit's [Unit] settings (one look-up per unit, not one per key: 10,000-unit trees are checked often).
    static const std::map<std::string, Setting>* unit_section(const LoadedUnit& u) {
        const auto it = u.unit.sections.find("Unit");
        return it == u.unit.sections.end() ? nullptr : &it->second;
    }
    static const Setting* in(const std::map<std::string, Setting>* section, const char* key) {
        if (!section) return nullptr;
        const auto it = section->find(key);
        return it == section->end() ? nullptr : &it->second;
    }

    void check_dependencies() {
        for (const LoadedUnit& u : m_set.units) {
            const auto* section = unit_section(u);
            if (!section) continue;
            for (const char* key : {"Requires", "BindsTo", "Requisite"}) {
                const Setting* s = in(section, key);
                if (!s) continue;
                for (const std::string& dep : std::get<std::vector<std::string>>(s->value)) {
                    if (!dep.ends_with(".service")) {
                        report(s->file, s->line, Severity::Warning,
                               std::string(key) + "= names '" + dep + "', which gitvisor does not manage, ignoring");
                    } else if (!find_unit(dep) && !is_masked(dep)) {
                        report(s->file, s->line, Severity::Error,
                               std::string(key) + "= names '" + dep + "', which is not in this tree: add " + dep +
                                   " or remove it from " + key + "=");
                    }
                }
            }
        }
    }

    // Ordering edges: "a before b" for a Before=b in a, and for an After=a in b. Reports each cycle once.
    void check_cycles() {
        std::map<std::string, std::set<std::string>> before;  // a -> units that start after a
        std::map<std::pair<std::string, std::string>, const Setting*> why;
        for (const LoadedUnit& u : m_set.units) {
            // A unit without ordering edges cannot be in a cycle: only units with edges become nodes.
            const std::string& name = u.unit.name;
            const auto* section = unit_section(u);
            if (!section) continue;
            if (const Setting* s = in(section, "After"))
                for (const std::string& dep : std::get<std::vector<std::string>>(s->value))
                    if (find_unit(dep)) {
                        before[dep].insert(name);
                        why.try_emplace({dep, name}, s);
                    }
            if (const Setting* s = in(section, "Before"))
                for (const std::string& dep : std::get<std::vector<std::string>>(s->value))
                    if (find_unit(dep)) {
                        before[name].insert(dep);
                        why.try_emplace({name, dep}, s);
                    }
        }
        enum class Mark { None, Active, Done };
        std::map<std::string, Mark> mark;
        std::vector<std::string> stack;
        std::function<void(const std::string&)> visit = [&](const std::string& node) {
            mark[node] = Mark::Active;
            stack.push_back(node);
            for (const std::string& next : before[node]) {
                if (mark[next] == Mark::Active) {
                    auto from = std::find(stack.begin(), stack.end(), next);
                    std::string path;
                    for (auto it = from; it != stack.end(); ++it) path += *it + " -> ";
                    path += next;
                    const Setting* s = why[{node, next}];
                    report(s->file, s->line, Severity::Error,
                           "ordering cycle: " + path + " (After=/Before= must not loop)");
                } else if (mark[next] == Mark::None) {
                    visit(next);
                }
            }
            stack.pop_back();
            mark[node] = Mark::Done;
        };
        for (const auto& [node, targets] : before)
            if (mark[node] == Mark::None) visit(node);
    }

    // The host values that specifiers expand to, as one string: what a cache's units were loaded with.
    static std::string context_key(const SpecifierContext& c) {
        std::string key;
        for (const std::string* field :
             {&c.hostname, &c.short_hostname, &c.machine_id, &c.boot_id, &c.kernel_release, &c.architecture,
              &c.user_name, &c.uid, &c.group_name, &c.gid, &c.home, &c.shell, &c.runtime_dir, &c.state_dir,
              &c.cache_dir, &c.logs_dir, &c.config_dir, &c.temp_dir, &c.var_temp_dir, &c.fragment_path})
            key += *field + '\0';
        return key;
    }

    const std::vector<TreeFile>& m_files;
    const UnitSetOptions& m_options;
    std::unordered_map<std::string, UnitList::Shared> m_used;  // the cache's next content
    std::unordered_map<std::string, const LoadedUnit*> m_by_unit_name;  // the units of m_set, for look-ups
    struct Named {
        std::string name;
        const TreeFile* file;
    };
    std::vector<Named> m_by_name;  // unit files by name (then tree order)
    DropinIndex m_dropins;
    UnitSet m_set;
};

}  // namespace

std::vector<std::string> dropin_dirs_for(const std::string& unit_name) {
    std::vector<std::string> dirs;
    const std::optional<UnitName> name = parse_unit_name(unit_name);
    if (!name) return {unit_name + ".d"};
    dirs.push_back(name->suffix + ".d");
    // Dash-truncated prefixes: "foo-bar-baz.service" reads "foo-.service.d", then "foo-bar-.service.d".
    const std::string& prefix = name->prefix;
    for (size_t dash = prefix.find('-'); dash != std::string::npos; dash = prefix.find('-', dash + 1)) {
        if (dash + 1 == prefix.size()) break;  // a trailing dash is part of the name, not a truncation
        dirs.push_back(prefix.substr(0, dash + 1) + "." + name->suffix + ".d");
    }
    if (name->is_instance) dirs.push_back(prefix + "@." + name->suffix + ".d");
    dirs.push_back(unit_name + ".d");
    return dirs;
}

}  // namespace gitvisor::unitfile

namespace gitvisor::unitfile {

UnitSet load_unit_set(const std::vector<TreeFile>& files, const UnitSetOptions& options) {
    return SetLoader(files, options).run();
}

}  // namespace gitvisor::unitfile
