#include "unitfile/ini_reader.h"

#include <ini.h>

#include <cstring>
#include <mutex>

namespace gitvisor::unitfile {
namespace {

constexpr std::string_view kBlanks = " \t\r\n";
constexpr char kColonStandIn = '\x01';  // hides ':' in keys: inih would take it as a separator

// inih's options are process-wide globals whose defaults clash with systemd syntax (STACK.md).
void configure_inih_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        ini_allow_inline_comments = false;  // "sh -c 'a ; b'" must survive
        ini_allow_multiline = false;        // an indented line is a line of its own
        ini_allow_bom = false;              // removed before inih sees the text
        ini_allow_no_value = false;
        ini_stop_on_first_error = false;
        ini_max_line = static_cast<int>(kMaxLogicalLine + 64);
    });
}

std::string_view trim(std::string_view s) {
    const size_t begin = s.find_first_not_of(kBlanks);
    if (begin == std::string_view::npos) return {};
    const size_t end = s.find_last_not_of(kBlanks);
    return s.substr(begin, end - begin + 1);
}

bool is_comment(std::string_view line) {
    const std::string_view t = trim(line);
    return t.empty() || t.front() == '#' || t.front() == ';';
}

// An odd number of trailing backslashes continues the line; "\\" at the end is an escaped backslash.
bool continues(std::string_view line) {
    size_t n = 0;
    while (n < line.size() && line[line.size() - 1 - n] == '\\') ++n;
    return n % 2 == 1;
}

struct Reader {
    std::string_view text;
    size_t pos = 0;
    int physical_line = 0;  // lines consumed so far
    int current_line = 0;   // first physical line of the logical line handed to inih last
    const std::string* file = nullptr;
    IniDocument* doc = nullptr;
    std::string pending;  // a continued line being assembled
    int pending_line = 0;

    bool next_physical(std::string_view& line) {
        if (pos >= text.size()) return false;
        const size_t nl = text.find('\n', pos);
        const size_t end = nl == std::string_view::npos ? text.size() : nl;
        line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++physical_line;
        return true;
    }

    void report(int line, Severity severity, std::string message) {
        doc->diagnostics.push_back({*file, line, severity, std::move(message)});
    }

    // Turns one logical line into what inih should see; returns "" for lines handled here.
    std::string translate(std::string_view logical, int line) {
        if (logical.size() > kMaxLogicalLine) {
            report(line, Severity::Error, "line is longer than 1 MiB");
            return {};
        }
        if (logical.find('\0') != std::string_view::npos) {
            report(line, Severity::Error, "line contains a NUL byte: unit files are text");
            return {};
        }
        const std::string_view t = trim(logical);
        if (t.empty()) return {};
        if (t.front() == '[') {
            if (t.size() < 2 || t.back() != ']') {
                report(line, Severity::Error,
                       "invalid section header '" + std::string(t) + "': write it as [Name] alone on its line");
                return {};
            }
            doc->sections.push_back({std::string(t.substr(1, t.size() - 2)), line});
            // inih cuts long section names; it sees an index into doc->sections instead.
            return "[s" + std::to_string(doc->sections.size() - 1) + "]";
        }
        const size_t eq = t.find('=');
        if (eq == std::string_view::npos) {
            report(line, Severity::Warning, "missing '=' in '" + std::string(t.substr(0, 80)) + "', ignoring line");
            return {};
        }
        std::string out(t);
        for (size_t i = 0; i < eq; ++i)
            if (out[i] == ':') out[i] = kColonStandIn;
        return out;
    }

    // fgets-style reader for ini_parse_stream.
    static char* read(char* str, int num, void* stream) {
        auto* self = static_cast<Reader*>(stream);
        std::string_view line;
        while (true) {
            std::string logical;
            int start = 0;
            if (!self->next_physical(line)) {
                if (self->pending.empty()) return nullptr;
                // A '\' on the last line is dropped (it already became a blank).
                logical = std::move(self->pending);
                start = self->pending_line;
                self->pending.clear();
            } else if (is_comment(line)) {
                continue;  // also inside a continuation: systemd skips comment lines there
            } else if (continues(line)) {
                if (self->pending.empty()) self->pending_line = self->physical_line;
                self->pending.append(line.substr(0, line.size() - 1));
                self->pending.push_back(' ');
                continue;
            } else if (!self->pending.empty()) {
                logical = std::move(self->pending);
                logical.append(line);
                start = self->pending_line;
                self->pending.clear();
            } else {
                logical.assign(line);
                start = self->physical_line;
            }
            std::string translated = self->translate(logical, start);
            if (translated.empty()) continue;
            if (translated.size() + 2 > static_cast<size_t>(num)) {
                self->report(start, Severity::Error, "line is longer than 1 MiB");
                continue;
            }
            self->current_line = start;
            std::memcpy(str, translated.data(), translated.size());
            str[translated.size()] = '\n';
            str[translated.size() + 1] = '\0';
            return str;
        }
    }

    static int handle(void* user, const char* section, const char* name, const char* value) {
        auto* self = static_cast<Reader*>(user);
        const int line = self->current_line;
        if (section[0] == '\0') {
            self->report(line, Severity::Warning, "assignment outside of a section, ignoring");
            return 1;
        }
        std::string key(name);
        for (char& c : key)
            if (c == kColonStandIn) c = ':';
        if (key.empty()) {
            self->report(line, Severity::Warning, "assignment without a key name, ignoring");
            return 1;
        }
        const size_t index = std::strtoul(section + 1, nullptr, 10);
        self->doc->assignments.push_back({self->doc->sections.at(index).name, std::move(key), value, line});
        return 1;
    }
};

}  // namespace

IniDocument read_ini(std::string_view text, const std::string& file) {
    configure_inih_once();
    IniDocument doc;
    Reader reader;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    reader.text = text;
    reader.file = &file;
    reader.doc = &doc;
    ini_parse_stream(&Reader::read, &reader, &Reader::handle, &reader);
    return doc;
}

}  // namespace gitvisor::unitfile
