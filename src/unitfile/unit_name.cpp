#include "unitfile/unit_name.h"

#include <algorithm>
#include <array>

namespace gitvisor::unitfile {

namespace {

// systemd's UNIT_NAME_MAX is 256 including the terminating NUL.
constexpr size_t kMaxUnitNameLength = 255;

constexpr std::array<std::string_view, 11> kUnitSuffixes = {
    "service", "socket", "target", "timer", "mount", "path", "slice", "scope", "device", "swap", "automount",
};

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// The bytes a unit name may hold besides the one '@' and the '.' before the suffix.
bool is_unit_name_char(char c) {
    return is_alnum(c) || c == ':' || c == '-' || c == '_' || c == '.' || c == '\\';
}

// The bytes escape_unit_component keeps as they are. '-' and '\' are valid in names but are escaped, so that
// unescaping gives back the original text.
bool is_kept_by_escape(char c) { return is_alnum(c) || c == ':' || c == '_' || c == '.'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void append_hex_escape(std::string& out, char c) {
    static constexpr char kHexDigits[] = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(c);
    out += "\\x";
    out += kHexDigits[byte >> 4];
    out += kHexDigits[byte & 0x0f];
}

}  // namespace

std::optional<UnitName> parse_unit_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxUnitNameLength) {
        return std::nullopt;
    }
    const size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0) {
        return std::nullopt;
    }
    const std::string_view suffix = name.substr(dot + 1);
    if (std::ranges::find(kUnitSuffixes, suffix) == kUnitSuffixes.end()) {
        return std::nullopt;
    }

    const std::string_view stem = name.substr(0, dot);
    size_t at = std::string_view::npos;
    for (size_t i = 0; i < stem.size(); ++i) {
        if (stem[i] == '@') {
            if (at != std::string_view::npos) {
                return std::nullopt;
            }
            at = i;
        } else if (!is_unit_name_char(stem[i])) {
            return std::nullopt;
        }
    }
    if (at == 0) {
        return std::nullopt;
    }

    UnitName parsed;
    parsed.full = std::string(name);
    parsed.suffix = std::string(suffix);
    if (at == std::string_view::npos) {
        parsed.prefix = std::string(stem);
    } else {
        parsed.prefix = std::string(stem.substr(0, at));
        parsed.instance = std::string(stem.substr(at + 1));
        parsed.is_template = parsed.instance.empty();
        parsed.is_instance = !parsed.instance.empty();
    }
    return parsed;
}

bool is_valid_unit_name(std::string_view name) { return parse_unit_name(name).has_value(); }

std::string escape_unit_component(std::string_view text) {
    std::string escaped;
    escaped.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '/') {
            escaped += '-';
        } else if (!is_kept_by_escape(c) || (i == 0 && c == '.')) {
            // A leading '.' would make a hidden file of the unit (as for a mount point "/.snapshots").
            append_hex_escape(escaped, c);
        } else {
            escaped += c;
        }
    }
    return escaped;
}

std::string escape_unit_path(std::string_view path) {
    // Rebuild the path from its components, which drops leading, trailing and doubled '/'. Like systemd, "."
    // components are dropped too: "/a/./b" names the same place as "/a/b" and must give the same unit.
    std::string simplified;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        const std::string_view component = path.substr(start, end - start);
        if (!component.empty() && component != ".") {
            if (!simplified.empty()) {
                simplified += '/';
            }
            simplified += component;
        }
        start = end + 1;
    }
    if (simplified.empty()) {
        return "-";
    }
    return escape_unit_component(simplified);
}

std::string unescape_unit_component(std::string_view text) {
    std::string unescaped;
    unescaped.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '-') {
            unescaped += '/';
            continue;
        }
        if (c == '\\' && i + 3 < text.size() && text[i + 1] == 'x') {
            const int high = hex_value(text[i + 2]);
            const int low = hex_value(text[i + 3]);
            if (high >= 0 && low >= 0) {
                unescaped += static_cast<char>(high * 16 + low);
                i += 3;
                continue;
            }
        }
        // A '\' that does not start a \xHH escape is kept as written; systemd refuses such text, but this
        // function has no way to report an error and the text was accepted as a unit name already.
        unescaped += c;
    }
    return unescaped;
}

}  // namespace gitvisor::unitfile
