#include "unitfile/unit_loader.h"

#include <algorithm>
#include <set>

#include "unitfile/directives.h"
#include "unitfile/ini_reader.h"
#include "unitfile/setting_parser.h"

namespace gitvisor::unitfile {
namespace {

std::string shorten(std::string_view value) {
    constexpr size_t kMax = 60;
    if (value.size() <= kMax) return std::string(value);
    return std::string(value.substr(0, kMax)) + "...";
}

bool is_condition_key(std::string_view key) { return key.starts_with("Condition") || key.starts_with("Assert"); }

// Appends `add` to the list value `into` (both hold the same alternative, as one table row produced both).
void append_value(Value& into, Value&& add) {
    std::visit(
        [&](auto& existing) {
            using T = std::decay_t<decltype(existing)>;
            auto& extra = std::get<T>(add);
            if constexpr (std::is_same_v<T, EnvironmentMap>) {
                for (auto& [k, v] : extra) existing[k] = std::move(v);
            } else if constexpr (std::is_same_v<T, ExitStatusSet>) {
                std::set<int> statuses(existing.statuses.begin(), existing.statuses.end());
                std::set<int> signals(existing.signals.begin(), existing.signals.end());
                statuses.insert(extra.statuses.begin(), extra.statuses.end());
                signals.insert(extra.signals.begin(), extra.signals.end());
                existing.statuses.assign(statuses.begin(), statuses.end());
                existing.signals.assign(signals.begin(), signals.end());
            } else if constexpr (requires { existing.insert(existing.end(), extra.begin(), extra.end()); }) {
                existing.insert(existing.end(), std::make_move_iterator(extra.begin()),
                                std::make_move_iterator(extra.end()));
            } else {
                existing = std::move(extra);
            }
        },
        into);
}

class Loader {
public:
    Loader(const std::string& name, const std::string& file, SpecifierContext context)
        : m_context(std::move(context)) {
        m_loaded.unit.name = name;
        m_loaded.unit.file = file;
        m_context.unit_name = name;
    }

    void read_file(const UnitFileText& file) {
        const size_t first = m_loaded.diagnostics.size();
        IniDocument doc = read_ini(file.text, file.path);
        for (Diagnostic& d : doc.diagnostics) m_loaded.diagnostics.push_back(std::move(d));
        for (const SectionHeader& h : doc.sections) {
            m_loaded.unit.headers.try_emplace(h.name, SourceLine{file.path, h.line});
            if (is_known_section(h.name) || h.name.starts_with("X-")) continue;
            std::string message = "unknown section '[" + h.name + "]'";
            if (std::string s = suggest_section(h.name); !s.empty()) message += " (did you mean '[" + s + "]'?)";
            report(file.path, h.line, Severity::Warning, message + ", ignoring");
        }
        for (const Assignment& a : doc.assignments) apply(file.path, a);
        // Structural and per-assignment messages were gathered in two passes: report them in line order.
        std::stable_sort(m_loaded.diagnostics.begin() + static_cast<std::ptrdiff_t>(first),
                         m_loaded.diagnostics.end(),
                         [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    }

    LoadedUnit finish() {
        validate_service(m_loaded.unit, m_loaded.diagnostics);
        return std::move(m_loaded);
    }

private:
    void report(const std::string& file, int line, Severity severity, std::string message) {
        m_loaded.diagnostics.push_back({file, line, severity, std::move(message)});
    }

    // Keys of X- sections and X- keys are kept verbatim for tools that read them, and never warned about.
    void keep_raw(const std::string& file, const Assignment& a) {
        auto& slot = m_loaded.unit.sections[a.section][a.key];
        auto* list = std::get_if<std::vector<std::string>>(&slot.value);
        if (!list) {
            slot.value = std::vector<std::string>{};
            list = std::get_if<std::vector<std::string>>(&slot.value);
        }
        list->push_back(a.value);
        slot.file = file;
        slot.line = a.line;
    }

    void apply(const std::string& file, const Assignment& a) {
        const bool gitvisor_section = a.section == "X-Gitvisor";
        if (!is_known_section(a.section) && !a.section.starts_with("X-")) return;  // reported once per header
        if ((a.section.starts_with("X-") && !gitvisor_section) || a.key.starts_with("X-")) {
            keep_raw(file, a);
            return;
        }
        const Directive* d = find_directive(a.section, a.key);
        if (!d) {
            if (find_ignored_directive(a.section, a.key)) {
                m_loaded.unit.ignored.insert(a.key);
                report(file, a.line, Severity::Warning, a.key + "= is not supported by gitvisor, ignoring");
                return;
            }
            // A gitvisor setting in a systemd section would silently do nothing (no health check, no drain):
            // an error that says where it belongs.
            if (!gitvisor_section && find_directive("X-Gitvisor", a.key)) {
                report(file, a.line, Severity::Error,
                       a.key + "= is a gitvisor setting: write it in the [X-Gitvisor] section, not in [" +
                           a.section + "]");
                return;
            }
            std::string message = "unknown directive '" + a.key + "=' in [" + a.section + "]";
            if (std::string s = suggest_key(a.section, a.key); !s.empty()) message += " (did you mean '" + s + "='?)";
            report(file, a.line, Severity::Warning, message + ", ignoring");
            return;
        }
        ParsedSetting parsed = parse_setting(*d, a.value, m_context);
        for (std::string& w : parsed.warnings) report(file, a.line, Severity::Warning, std::move(w));
        switch (parsed.kind) {
            case ParsedSetting::Kind::Invalid:
                report(file, a.line, Severity::Error,
                       "invalid value '" + shorten(a.value) + "' for " + a.key + "=: " + parsed.error);
                return;
            case ParsedSetting::Kind::Ignore:
                return;
            case ParsedSetting::Kind::Reset:
                reset(*d);
                return;
            case ParsedSetting::Kind::Set:
                break;
        }
        if (d->also_sets.empty()) {
            store(*d, d->key, std::move(parsed.value), file, a.line);
        } else {
            for (std::string_view target : d->also_sets) store(*d, target, Value(parsed.value), file, a.line);
        }
    }

    void reset(const Directive& d) {
        auto& section = m_loaded.unit.sections[std::string(d.section)];
        if (is_condition_key(d.key)) {
            // An empty Condition*= or Assert*= clears every condition of every kind (systemd.unit(5)).
            std::erase_if(section, [](const auto& kv) { return is_condition_key(kv.first); });
            return;
        }
        if (d.also_sets.empty()) {
            section.erase(std::string(d.key));
        } else {
            for (std::string_view target : d.also_sets) section.erase(std::string(target));
        }
    }

    void store(const Directive& d, std::string_view key, Value value, const std::string& file, int line) {
        auto& section = m_loaded.unit.sections[std::string(d.section)];
        auto [it, inserted] = section.try_emplace(std::string(key));
        Setting& s = it->second;
        if (inserted || d.list == ListMode::Single) {
            s.value = std::move(value);
        } else {
            append_value(s.value, std::move(value));
        }
        s.file = file;
        s.line = line;
    }

    SpecifierContext m_context;
    LoadedUnit m_loaded;
};

}  // namespace

LoadedUnit load_unit(const std::string& name, const UnitFileText& main, const std::vector<UnitFileText>& dropins,
                     SpecifierContext context) {
    if (main.text.empty()) {  // an empty unit file masks the unit (systemd.unit(5))
        LoadedUnit masked;
        masked.unit.name = name;
        masked.unit.file = main.path;
        masked.masked = true;
        return masked;
    }
    Loader loader(name, main.path, std::move(context));
    loader.read_file(main);
    for (const UnitFileText& d : dropins) loader.read_file(d);
    LoadedUnit loaded = loader.finish();
    for (const UnitFileText& d : dropins) loaded.unit.dropins.push_back(d.path);
    return loaded;
}

}  // namespace gitvisor::unitfile
