#include "unitfile/normalize.h"

#include <map>
#include <mutex>

#include "common/json.h"
#include "common/sha256.h"
#include "unitfile/directives.h"
#include "unitfile/setting_parser.h"
#include "unitfile/unit_loader.h"

namespace gitvisor::unitfile {
namespace {

constexpr std::string_view kHashVersion = "v1";

std::string join_json(const std::vector<std::string>& items, char open, char close) {
    std::string out(1, open);
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ",";
        out += items[i];
    }
    out.push_back(close);
    return out;
}

std::string exec_to_json(const ExecCommand& c) {
    std::vector<std::string> argv;
    for (const std::string& a : c.argv) argv.push_back(json_quote(a));
    return "{\"path\":" + json_quote(c.path) + ",\"argv\":" + join_json(argv, '[', ']') +
           ",\"prefixes\":" + json_quote(c.prefixes()) + "}";
}

// Canonical JSON of each directive's default, parsed with the same parser as the unit's own values.
const std::map<std::pair<std::string_view, std::string_view>, std::string>& default_json() {
    static const auto defaults = [] {
        std::map<std::pair<std::string_view, std::string_view>, std::string> out;
        for (const Directive& d : all_directives())
            if (const Value* v = directive_default(d.section, d.key)) out[{d.section, d.key}] = value_to_json(*v);
        return out;
    }();
    return defaults;
}

std::string sections_to_json(const Unit& unit, bool drop_defaults) {
    const auto& defaults = default_json();
    std::vector<std::string> sections;
    for (const auto& [section, settings] : unit.sections) {
        std::vector<std::string> entries;
        for (const auto& [key, setting] : settings) {
            std::string value = value_to_json(setting.value);
            if (drop_defaults) {
                auto it = defaults.find({section, key});
                if (it != defaults.end() && it->second == value) continue;
                // Type= has no fixed default: it depends on whether ExecStart= is set.
                if (section == "Service" && key == "Type" && value == json_quote(implied_type(unit))) continue;
            }
            entries.push_back(json_quote(key) + ":" + value);
        }
        if (drop_defaults && entries.empty()) continue;
        sections.push_back(json_quote(section) + ":" + join_json(entries, '{', '}'));
    }
    return join_json(sections, '{', '}');
}

}  // namespace

std::string value_to_json(const Value& value) {
    return std::visit(
        [](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
                return json_quote(v);
            } else if constexpr (std::is_same_v<T, bool>) {
                return v ? "true" : "false";
            } else if constexpr (std::is_same_v<T, int64_t>) {
                return std::to_string(v);
            } else if constexpr (std::is_same_v<T, Duration>) {
                return json_quote(format_timespan(v.usec));
            } else if constexpr (std::is_same_v<T, Limit>) {
                return json_quote(format_limit(v));
            } else if constexpr (std::is_same_v<T, Signal>) {
                return json_quote(signal_name(v.number));
            } else if constexpr (std::is_same_v<T, Mode>) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "%04o", v.bits);
                return json_quote(buf);
            } else if constexpr (std::is_same_v<T, RLimit>) {
                return json_quote(format_rlimit(v));
            } else if constexpr (std::is_same_v<T, ExitStatusSet>) {
                std::vector<std::string> statuses, signals;
                for (int s : v.statuses) statuses.push_back(std::to_string(s));
                for (int s : v.signals) signals.push_back(json_quote(signal_name(s)));
                return "{\"statuses\":" + join_json(statuses, '[', ']') + ",\"signals\":" + join_json(signals, '[', ']') +
                       "}";
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                std::vector<std::string> items;
                for (const std::string& s : v) items.push_back(json_quote(s));
                return join_json(items, '[', ']');
            } else if constexpr (std::is_same_v<T, std::vector<ExecCommand>>) {
                std::vector<std::string> items;
                for (const ExecCommand& c : v) items.push_back(exec_to_json(c));
                return join_json(items, '[', ']');
            } else if constexpr (std::is_same_v<T, EnvironmentMap>) {
                std::vector<std::string> items;
                for (const auto& [k, val] : v) items.push_back(json_quote(k) + ":" + json_quote(val));
                return join_json(items, '{', '}');
            } else {
                static_assert(std::is_same_v<T, std::vector<Condition>>);
                std::vector<std::string> items;
                for (const Condition& c : v)
                    items.push_back("{\"value\":" + json_quote(c.value) + ",\"negate\":" +
                                    (c.negate ? "true" : "false") + ",\"trigger\":" + (c.trigger ? "true" : "false") +
                                    "}");
                return join_json(items, '[', ']');
            }
        },
        value);
}

std::string spec_hash(const Unit& unit) {
    Sha256 hash;
    hash.update(kHashVersion);
    hash.update("\n");
    hash.update(sections_to_json(unit, true));
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(kHashVersion);
    out += ":";
    for (uint8_t b : hash.finish()) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 0xF]);
    }
    return out;
}

std::string unit_to_json(const Unit& unit) {
    std::vector<std::string> dropins;
    for (const std::string& d : unit.dropins) dropins.push_back(json_quote(d));
    return "{\"name\":" + json_quote(unit.name) + ",\"spec_hash\":" + json_quote(spec_hash(unit)) +
           ",\"file\":" + json_quote(unit.file) + ",\"dropins\":" + join_json(dropins, '[', ']') +
           ",\"sections\":" + sections_to_json(unit, false) + "}";
}

}  // namespace gitvisor::unitfile
