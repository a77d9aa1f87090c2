#include "unitfile/words.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace gitvisor::unitfile {

namespace {

// systemd's WHITESPACE: the only characters that separate words.
constexpr std::string_view kWhitespace = " \t\n\r";
// Characters that quote_word may leave unquoted. Everything else (whitespace, quotes, backslash, ';',
// control characters, shell-looking punctuation) makes it quote the word, so printed argv reads
// unambiguously.
constexpr std::string_view kPlainPunctuation = "-_./:=@+,%^~";
// The longest file name the kernel accepts (NAME_MAX); a bare program name must fit in it.
constexpr std::size_t kMaxNameLength = 255;

bool is_whitespace(char c) { return kWhitespace.find(c) != std::string_view::npos; }

bool is_control(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int octal_digit(char c) { return (c >= '0' && c <= '7') ? c - '0' : -1; }

// systemd's unichar_is_valid: inside Unicode, no UTF-16 surrogates, no non-characters.
bool is_valid_code_point(std::uint32_t cp) {
    if (cp >= 0x110000) return false;
    if ((cp & 0xFFFFF800) == 0xD800) return false;
    if (cp >= 0xFDD0 && cp <= 0xFDEF) return false;
    if ((cp & 0xFFFE) == 0xFFFE) return false;
    return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The length of the valid UTF-8 character at text[pos], or 0 if it is not one. Same rules as systemd's
// utf8_encoded_valid_unichar: no overlong forms, no truncation, code point valid; NUL counts as invalid
// because it cannot be passed in an environment block.
std::size_t utf8_char_length(std::string_view text, std::size_t pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    if (lead == 0) return 0;
    if (lead < 0x80) return 1;
    std::size_t length = 0;
    std::uint32_t cp = 0;
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        cp = lead & 0x07;
    } else {
        return 0;
    }
    if (pos + length > text.size()) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        const auto byte = static_cast<unsigned char>(text[pos + i]);
        if ((byte & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (byte & 0x3F);
    }
    const std::size_t shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (shortest != length || !is_valid_code_point(cp)) return 0;
    return length;
}

bool is_valid_utf8(std::string_view text) {
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t length = utf8_char_length(text, pos);
        if (length == 0) return false;
        pos += length;
    }
    return true;
}

// The one-character C escapes and what they stand for (\s, a space, is a systemd extension).
constexpr std::array<std::pair<char, char>, 11> kSimpleEscapes = {{
    {'a', '\a'},
    {'b', '\b'},
    {'f', '\f'},
    {'n', '\n'},
    {'r', '\r'},
    {'t', '\t'},
    {'v', '\v'},
    {'\\', '\\'},
    {'"', '"'},
    {'\'', '\''},
    {'s', ' '},
}};

// Reads `count` hex digits at text[pos...]; nullopt if any is missing or not hex.
std::optional<std::uint32_t> read_hex(std::string_view text, std::size_t pos, std::size_t count) {
    if (pos + count > text.size()) return std::nullopt;
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const int digit = hex_digit(text[pos + i]);
        if (digit < 0) return std::nullopt;
        value = (value << 4) | static_cast<std::uint32_t>(digit);
    }
    return value;
}

// Decodes the C escape whose first character (the one after the backslash) is text[pos], appending the
// result to `out`. Returns how many characters after the backslash it used, or 0 for an escape systemd's
// cunescape_one does not know. As there, \xHH and \NNN give one raw byte, \u and \U give UTF-8, and
// nothing may decode to NUL (\x00, \000, \u0000 count as unknown). \u accepts any 16-bit value, as
// systemd 252 does; \U must be a valid code point.
std::size_t decode_escape(std::string_view text, std::size_t pos, std::string& out) {
    if (pos >= text.size()) return 0;
    for (const auto& [letter, decoded] : kSimpleEscapes) {
        if (text[pos] == letter) {
            out += decoded;
            return 1;
        }
    }
    switch (text[pos]) {
        case 'x': {
            const auto value = read_hex(text, pos + 1, 2);
            if (!value || *value == 0) return 0;
            out += static_cast<char>(*value);
            return 3;
        }
        case 'u': {
            const auto value = read_hex(text, pos + 1, 4);
            if (!value || *value == 0) return 0;
            append_utf8(out, *value);
            return 5;
        }
        case 'U': {
            const auto value = read_hex(text, pos + 1, 8);
            if (!value || *value == 0 || !is_valid_code_point(*value)) return 0;
            append_utf8(out, *value);
            return 9;
        }
        default: {
            // \NNN: exactly three octal digits.
            if (pos + 3 > text.size()) return 0;
            const int a = octal_digit(text[pos]);
            const int b = octal_digit(text[pos + 1]);
            const int c = octal_digit(text[pos + 2]);
            if (a < 0 || b < 0 || c < 0) return 0;
            const int value = (a << 6) | (b << 3) | c;
            if (value == 0 || value > 255) return 0;
            out += static_cast<char>(value);
            return 3;
        }
    }
}

// A word together with the source text it came from, which parse_exec needs to tell "\;" from "\\;" and
// parse_environment needs to reject unknown escapes.
struct ScannedWord {
    std::string text;
    std::string_view raw;
    bool unknown_escape = false;  // an unknown escape or a trailing backslash was kept verbatim
};

// systemd's extract_first_word(EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE) applied word after word, in the
// relaxed mode that extract_first_word_and_warn falls back to: unknown escapes stay verbatim.
Result<std::vector<ScannedWord>> scan_words(std::string_view text) {
    std::vector<ScannedWord> words;
    std::size_t pos = 0;
    while (true) {
        while (pos < text.size() && is_whitespace(text[pos])) ++pos;
        if (pos >= text.size()) break;

        ScannedWord word;
        const std::size_t start = pos;
        char quote = 0;
        while (pos < text.size()) {
            const char c = text[pos];
            if (quote == 0 && is_whitespace(c)) break;
            if (c == '\\') {
                if (pos + 1 >= text.size()) {
                    // A trailing backslash is kept, except inside quotes where the quote is unclosed anyway.
                    if (quote != 0) return Result<std::vector<ScannedWord>>::fail("unbalanced quoting");
                    word.text += '\\';
                    word.unknown_escape = true;
                    ++pos;
                    break;
                }
                const std::size_t used = decode_escape(text, pos + 1, word.text);
                if (used > 0) {
                    pos += 1 + used;
                } else {
                    word.text += '\\';
                    word.text += text[pos + 1];
                    word.unknown_escape = true;
                    pos += 2;
                }
            } else if (quote != 0 && c == quote) {
                quote = 0;
                ++pos;
            } else if (quote == 0 && (c == '"' || c == '\'')) {
                quote = c;
                ++pos;
            } else {
                word.text += c;
                ++pos;
            }
        }
        if (quote != 0) return Result<std::vector<ScannedWord>>::fail("unbalanced quoting");
        word.raw = text.substr(start, pos - start);
        words.push_back(std::move(word));
    }
    return Result<std::vector<ScannedWord>>::ok(std::move(words));
}

// Splits a variable's value for "$NAME" the way systemd does at exec time (strv_split_full with
// EXTRACT_RELAX | EXTRACT_UNQUOTE): quotes group and are removed, a backslash takes the next character
// literally (no C escapes), and unbalanced quotes or a trailing backslash are tolerated.
std::vector<std::string> split_value(std::string_view value) {
    std::vector<std::string> words;
    std::size_t pos = 0;
    while (true) {
        while (pos < value.size() && is_whitespace(value[pos])) ++pos;
        if (pos >= value.size()) break;

        std::string word;
        char quote = 0;
        while (pos < value.size()) {
            const char c = value[pos];
            if (quote == 0 && is_whitespace(c)) break;
            if (c == '\\') {
                if (pos + 1 < value.size()) word += value[pos + 1];
                pos += 2;
            } else if (quote != 0 && c == quote) {
                quote = 0;
                ++pos;
            } else if (quote == 0 && (c == '"' || c == '\'')) {
                quote = c;
                ++pos;
            } else {
                word += c;
                ++pos;
            }
        }
        words.push_back(std::move(word));
    }
    return words;
}

const std::string* lookup(const std::map<std::string, std::string>& env, std::string_view name) {
    if (name.empty()) return nullptr;
    const auto it = env.find(std::string(name));
    return it == env.end() ? nullptr : &it->second;
}

// systemd's replace_env() without its braceless and ${X:-default} extensions (replace_env_argv passes
// no flags): "${NAME}" is replaced, "$$" becomes "$", and everything else — "$NAME", "${X:-y}", an
// unclosed "${X" — stays as written.
std::string replace_braced(std::string_view word, const std::map<std::string, std::string>& env) {
    enum class State { kWord, kDollar, kVariable };
    State state = State::kWord;
    std::string out;
    std::size_t copied_to = 0;  // word[copied_to...] has not been copied to `out` yet
    for (std::size_t i = 0; i < word.size(); ++i) {
        const char c = word[i];
        switch (state) {
            case State::kWord:
                if (c == '$') state = State::kDollar;
                break;
            case State::kDollar:
                if (c == '{') {
                    out.append(word.substr(copied_to, i - 1 - copied_to));
                    copied_to = i - 1;
                    state = State::kVariable;
                } else if (c == '$') {
                    out.append(word.substr(copied_to, i - copied_to));  // keeps the first '$'
                    copied_to = i + 1;
                    state = State::kWord;
                } else {
                    state = State::kWord;
                }
                break;
            case State::kVariable:
                if (c == '}') {
                    const std::string_view name = word.substr(copied_to + 2, i - copied_to - 2);
                    if (const std::string* value = lookup(env, name)) out += *value;
                    copied_to = i + 1;
                    state = State::kWord;
                } else if (c == ':') {
                    state = State::kWord;  // ${X:-y} is not supported here: leave it literal
                }
                break;
        }
    }
    out.append(word.substr(copied_to));
    return out;
}

bool is_valid_variable_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name) {
        const bool ok =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Checks the program path the way systemd's config_parse_exec does; "" when it is acceptable.
std::string check_program_path(std::string_view path) {
    if (path.empty()) return "empty command after prefixes";
    for (char c : path) {
        if (is_control(c)) return "control characters in the program path";
    }
    // systemd's string_is_safe() also refuses quotes and backslashes in the executable name.
    if (path.find_first_of("\"'\\") != std::string_view::npos) {
        return "program path " + quoted(path) + " contains quotes or backslashes";
    }
    if (path.back() == '/') return "program path " + quoted(path) + " names a directory";
    if (path.front() != '/') {
        if (path.find('/') != std::string_view::npos) {
            return "program " + quoted(path) +
                   " is a relative path; it must be an absolute path or a bare program name";
        }
        if (path == "." || path == ".." || path.size() > kMaxNameLength) {
            return "program " + quoted(path) + " must be an absolute path or a bare program name";
        }
    }
    return "";
}

// Reads the prefixes at the start of the first word into `command`; returns how many characters they use,
// or an error for a repeated or conflicting prefix.
Result<std::size_t> read_prefixes(std::string_view word, ExecCommand& command) {
    std::size_t pos = 0;
    while (pos < word.size()) {
        const char c = word[pos];
        bool* flag = nullptr;
        std::size_t length = 1;
        bool privilege = false;
        switch (c) {
            case '-':
                flag = &command.ignore_failure;
                break;
            case '@':
                flag = &command.override_argv0;
                break;
            case ':':
                flag = &command.no_env_expand;
                break;
            case '+':
                flag = &command.full_privileges;
                privilege = true;
                break;
            case '!':
                privilege = true;
                if (pos + 1 < word.size() && word[pos + 1] == '!') {
                    flag = &command.ambient_fallback;
                    length = 2;
                } else {
                    flag = &command.no_setuid;
                }
                break;
            default:
                return Result<std::size_t>::ok(pos);
        }
        if (*flag) {
            return Result<std::size_t>::fail("prefix " + quoted(word.substr(pos, length)) + " given twice");
        }
        if (privilege && (command.full_privileges || command.no_setuid || command.ambient_fallback)) {
            return Result<std::size_t>::fail(
                "conflicting prefixes: only one of '+', '!' and '!!' may be used");
        }
        *flag = true;
        pos += length;
    }
    return Result<std::size_t>::ok(pos);
}

}  // namespace

Result<std::vector<Word>> split_words(std::string_view text) {
    auto scanned = scan_words(text);
    if (!scanned) return Result<std::vector<Word>>::fail(scanned.error());
    std::vector<Word> words;
    words.reserve(scanned->size());
    for (ScannedWord& word : *scanned) {
        const bool bare_semicolon = word.raw == ";";
        words.push_back(Word{std::move(word.text), bare_semicolon});
    }
    return Result<std::vector<Word>>::ok(std::move(words));
}

std::string quote_word(std::string_view word) {
    bool plain = !word.empty();
    for (std::size_t pos = 0; plain && pos < word.size();) {
        const char c = word[pos];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            kPlainPunctuation.find(c) != std::string_view::npos) {
            ++pos;
        } else if (static_cast<unsigned char>(c) >= 0x80 && utf8_char_length(word, pos) > 0) {
            pos += utf8_char_length(word, pos);
        } else {
            plain = false;
        }
    }
    if (plain) return std::string(word);

    // Inside double quotes only '"' and '\' need escaping; control characters and bytes that are not
    // UTF-8 are escaped too so the printed word is readable. NUL has no escape (systemd refuses \x00),
    // so it stays a raw byte, which split_words still gives back.
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (std::size_t pos = 0; pos < word.size();) {
        const char c = word[pos];
        const auto byte = static_cast<unsigned char>(c);
        std::size_t length = 1;
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (byte == 0) {
            out += c;
        } else if (is_control(c) || (byte >= 0x80 && utf8_char_length(word, pos) == 0)) {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xF];
        } else if (byte >= 0x80) {
            length = utf8_char_length(word, pos);
            out.append(word.substr(pos, length));
        } else {
            out += c;
        }
        pos += length;
    }
    out += '"';
    return out;
}

std::string ExecCommand::prefixes() const {
    std::string out;
    if (ignore_failure) out += '-';
    if (override_argv0) out += '@';
    if (no_env_expand) out += ':';
    if (full_privileges) out += '+';
    if (no_setuid) out += '!';
    if (ambient_fallback) out += "!!";
    return out;
}

Result<std::vector<ExecCommand>> parse_exec(std::string_view text) {
    using R = Result<std::vector<ExecCommand>>;
    for (char c : text) {
        if (is_control(c) && !is_whitespace(c)) return R::fail("control characters in command line");
    }
    auto scanned = scan_words(text);
    if (!scanned) return R::fail(scanned.error());
    const std::vector<ScannedWord>& words = *scanned;

    std::vector<ExecCommand> commands;
    std::size_t i = 0;
    while (i < words.size()) {
        // 1. The first word. As in systemd, one that reads ";" once unquoted is an empty command between
        //    separators (or before the first) and is skipped.
        const ScannedWord& first = words[i++];
        if (first.text == ";") continue;

        // 2. Prefixes, then the program path.
        ExecCommand command;
        auto prefix_length = read_prefixes(first.text, command);
        if (!prefix_length) return R::fail(prefix_length.error());
        command.path = first.text.substr(*prefix_length);
        if (std::string problem = check_program_path(command.path); !problem.empty()) return R::fail(problem);
        if (!command.override_argv0) command.argv.push_back(command.path);

        // 3. Arguments up to a bare ";". Only the exact source text "\;" is a literal ";" argument;
        //    "\\;" or "\;x" are words like any other (unknown escapes kept verbatim).
        while (i < words.size()) {
            const ScannedWord& word = words[i++];
            if (word.raw == ";") break;
            command.argv.push_back(word.raw == "\\;" ? std::string(";") : word.text);
        }
        if (command.argv.empty()) return R::fail("'@' without an argv[0] word after " + quoted(command.path));
        commands.push_back(std::move(command));
    }
    return R::ok(std::move(commands));
}

// Substitution follows man systemd.service "COMMAND LINES" and systemd 252's replace_env_argv():
// "${NAME}" is replaced within any word, while "$NAME" is only special as a separate word. A "$NAME"
// inside a larger word (e.g. "a$FOO") is therefore left as written, as systemd does. A word that starts
// with '$' (but not "${" or "$$") is looked up as a whole: everything after the '$' is the name, so
// "$FOO-bar" or a lone "$" name no variable and expand to no words at all, exactly as in systemd.
std::vector<std::string> expand_exec_argv(const ExecCommand& command,
                                          const std::map<std::string, std::string>& env) {
    if (command.no_env_expand || command.argv.empty()) return command.argv;
    std::vector<std::string> out;
    out.reserve(command.argv.size());
    out.push_back(command.argv[0]);
    for (std::size_t i = 1; i < command.argv.size(); ++i) {
        const std::string& word = command.argv[i];
        const bool whole_word =
            !word.empty() && word[0] == '$' && !(word.size() > 1 && (word[1] == '{' || word[1] == '$'));
        if (whole_word) {
            if (const std::string* value = lookup(env, std::string_view(word).substr(1))) {
                for (std::string& part : split_value(*value)) out.push_back(std::move(part));
            }
            continue;
        }
        out.push_back(replace_braced(word, env));
    }
    return out;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_environment(std::string_view text) {
    using R = Result<std::vector<std::pair<std::string, std::string>>>;
    auto scanned = scan_words(text);
    if (!scanned) return R::fail(scanned.error());

    std::vector<std::pair<std::string, std::string>> assignments;
    for (const ScannedWord& word : *scanned) {
        // systemd parses Environment= strictly: an unknown escape makes it drop the rest of the line.
        // gitvisor refuses the line instead of guessing.
        if (word.unknown_escape) {
            return R::fail("unknown escape sequence in " + quoted(word.raw) +
                           " (write '\\\\' for a backslash)");
        }
        const std::size_t equals = word.text.find('=');
        if (equals == std::string::npos) return R::fail("missing '=' in " + quoted(word.text));
        std::string name = word.text.substr(0, equals);
        if (!is_valid_variable_name(name)) return R::fail("invalid variable name " + quoted(name));
        std::string value = word.text.substr(equals + 1);
        if (!is_valid_utf8(value)) return R::fail("invalid UTF-8 in the value of " + quoted(name));
        assignments.emplace_back(std::move(name), std::move(value));
    }
    return R::ok(std::move(assignments));
}

// A port of systemd 252's parse_env_file_internal() state machine (what load_env_file() uses), so that
// odd inputs come out the same: a value may mix quoted and unquoted parts ("a"'b'c gives abc, and
// whitespace after a closing quote is skipped), a '#' or ';' comment needs to start its line, and a
// comment line ending in '\' also swallows the next line (changed only in systemd 254). On top of that:
//  - a leading "export " before the name is dropped, so shell-style files work;
//  - assignments whose name is not a valid variable name are left out, as systemd's exec step drops them;
//  - input ends at a NUL byte, as systemd reads the file as a C string;
//  - a name or value that is not valid UTF-8 is an error (systemd fails the start for it).
Result<std::vector<std::pair<std::string, std::string>>> parse_environment_file(std::string_view text) {
    using R = Result<std::vector<std::pair<std::string, std::string>>>;
    constexpr std::string_view kNewline = "\n\r";
    constexpr std::string_view kCommentStarts = "#;";
    constexpr std::string_view kShellNeedEscape = "\"\\`$";
    auto contains = [](std::string_view set, char c) { return set.find(c) != std::string_view::npos; };

    if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) text = text.substr(0, nul);

    enum class State {
        kPreKey,
        kKey,
        kPreValue,
        kValue,
        kValueEscape,
        kSingleQuoteValue,
        kDoubleQuoteValue,
        kDoubleQuoteValueEscape,
        kComment,
        kCommentEscape,
    };
    State state = State::kPreKey;
    std::string key;
    std::string value;
    std::optional<std::size_t> key_trailing_space;    // where trailing whitespace of the key starts
    std::optional<std::size_t> value_trailing_space;  // same for an unquoted value
    unsigned line = 1;
    unsigned key_line = 1;
    std::vector<std::pair<std::string, std::string>> assignments;
    std::string error;

    auto push = [&](bool trim_value) {
        if (trim_value && value_trailing_space) value.resize(*value_trailing_space);
        if (key_trailing_space) key.resize(*key_trailing_space);
        if (error.empty()) {
            if (!is_valid_utf8(key)) {
                error = "line " + std::to_string(key_line) + ": invalid UTF-8 in a variable name";
            } else if (!is_valid_utf8(value)) {
                error = "line " + std::to_string(key_line) + ": invalid UTF-8 in the value of " + quoted(key);
            }
        }
        std::string name = key;
        if (name.starts_with("export") && name.size() > 6 && (name[6] == ' ' || name[6] == '\t')) {
            const std::size_t start = name.find_first_not_of(" \t", 6);
            name = start == std::string::npos ? "" : name.substr(start);
        }
        if (is_valid_variable_name(name)) assignments.emplace_back(std::move(name), value);
        key.clear();
        value.clear();
    };

    for (const char c : text) {
        switch (state) {
            case State::kPreKey:
                if (contains(kCommentStarts, c)) {
                    state = State::kComment;
                } else if (!is_whitespace(c)) {
                    state = State::kKey;
                    key_trailing_space.reset();
                    key_line = line;
                    key += c;
                }
                break;
            case State::kKey:
                if (contains(kNewline, c)) {
                    state = State::kPreKey;  // a line without '=' is skipped
                    key.clear();
                } else if (c == '=') {
                    state = State::kPreValue;
                    value_trailing_space.reset();
                } else {
                    if (!is_whitespace(c)) {
                        key_trailing_space.reset();
                    } else if (!key_trailing_space) {
                        key_trailing_space = key.size();
                    }
                    key += c;
                }
                break;
            case State::kPreValue:
                if (contains(kNewline, c)) {
                    state = State::kPreKey;
                    push(false);
                } else if (c == '\'') {
                    state = State::kSingleQuoteValue;
                } else if (c == '"') {
                    state = State::kDoubleQuoteValue;
                } else if (c == '\\') {
                    state = State::kValueEscape;
                } else if (!is_whitespace(c)) {
                    state = State::kValue;
                    value += c;
                }
                break;
            case State::kValue:
                if (contains(kNewline, c)) {
                    state = State::kPreKey;
                    push(true);
                } else if (c == '\\') {
                    state = State::kValueEscape;
                    value_trailing_space.reset();
                } else {
                    if (!is_whitespace(c)) {
                        value_trailing_space.reset();
                    } else if (!value_trailing_space) {
                        value_trailing_space = value.size();
                    }
                    value += c;
                }
                break;
            case State::kValueEscape:
                state = State::kValue;
                if (!contains(kNewline, c)) value += c;  // an escaped newline joins the lines
                break;
            case State::kSingleQuoteValue:
                if (c == '\'') {
                    state = State::kPreValue;
                } else {
                    value += c;
                }
                break;
            case State::kDoubleQuoteValue:
                if (c == '"') {
                    state = State::kPreValue;
                } else if (c == '\\') {
                    state = State::kDoubleQuoteValueEscape;
                } else {
                    value += c;
                }
                break;
            case State::kDoubleQuoteValueEscape:
                state = State::kDoubleQuoteValue;
                if (contains(kShellNeedEscape, c)) {
                    value += c;
                } else if (c != '\n') {
                    // Like the shell, other backslashes stay in place; backslash-newline is removed.
                    value += '\\';
                    value += c;
                }
                break;
            case State::kComment:
                if (c == '\\') {
                    state = State::kCommentEscape;
                } else if (contains(kNewline, c)) {
                    state = State::kPreKey;
                }
                break;
            case State::kCommentEscape:
                state = State::kComment;
                break;
        }
        if (c == '\n') ++line;
    }

    switch (state) {
        case State::kPreValue:
        case State::kValueEscape:
        case State::kSingleQuoteValue:
        case State::kDoubleQuoteValue:
        case State::kDoubleQuoteValueEscape:
            push(false);
            break;
        case State::kValue:
            push(true);
            break;
        default:
            break;
    }
    if (!error.empty()) return R::fail(error);
    return R::ok(std::move(assignments));
}

}  // namespace gitvisor::unitfile
