#include "unitfile/words.h"

#include "common/utf8.h"

// Word splitting, C escapes and quoting, and Environment=. Exec*= lines are read in words_exec.cpp,
// EnvironmentFile= contents in environment_file.cpp.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "unitfile/words_internal.h"

namespace gitvisor::unitfile {

// Shared with values.cpp (values_internal.h declares it as well).
std::string detail::quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

using namespace detail;

namespace {

// Characters that quote_word may leave unquoted. Everything else (whitespace, quotes, backslash, ';',
// control characters, shell-looking punctuation) makes it quote the word, so printed argv reads
// unambiguously.
constexpr std::string_view kPlainPunctuation = "-_./:=@+,%^~";

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int octal_digit(char c) { return (c >= '0' && c <= '7') ? c - '0' : -1; }

// systemd's unichar_is_valid: inside Unicode, no UTF-16 surrogates, no non-characters.
// systemd's unichar_is_valid also refuses the noncharacters U+FDD0..U+FDEF and U+xFFFE/U+xFFFF.
bool is_systemd_code_point(std::uint32_t cp) {
    return is_valid_code_point(cp) && !(cp >= 0xFDD0 && cp <= 0xFDEF) && (cp & 0xFFFE) != 0xFFFE;
}

// The length of the valid UTF-8 character at text[pos], or 0 if it is not one, by systemd's
// utf8_encoded_valid_unichar rules; NUL counts as invalid because it cannot be passed in an environment block.
std::size_t utf8_char_length(std::string_view text, std::size_t pos) {
    std::uint32_t cp = 0;
    const std::size_t length = decode_utf8(text, pos, cp);
    return length == 0 || cp == 0 || !is_systemd_code_point(cp) ? 0 : length;
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
            if (!value || *value == 0 || !is_systemd_code_point(*value)) return 0;
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

}  // namespace

// ---- Helpers shared with words_exec.cpp and environment_file.cpp (words_internal.h) -----------------

bool detail::is_valid_utf8(std::string_view text) {
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t length = utf8_char_length(text, pos);
        if (length == 0) return false;
        pos += length;
    }
    return true;
}

bool detail::is_valid_variable_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name) {
        const bool ok =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

Result<std::vector<ScannedWord>> detail::scan_words(std::string_view text) {
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

// ---- Public functions --------------------------------------------------------------------------------

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

}  // namespace gitvisor::unitfile
