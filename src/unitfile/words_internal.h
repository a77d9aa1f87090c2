#pragma once
// Private to words.cpp, words_exec.cpp and environment_file.cpp, which together implement words.h: the
// character classes and the word scanner they share.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gitvisor::unitfile::detail {

// systemd's WHITESPACE: the only characters that separate words.
inline constexpr std::string_view kWhitespace = " \t\n\r";

inline bool is_whitespace(char c) { return kWhitespace.find(c) != std::string_view::npos; }

inline bool is_control(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

// Valid UTF-8 by systemd's utf8_encoded_valid_unichar rules: no overlong forms, no truncation, no
// surrogates or non-characters, no NUL (it cannot be passed in an environment block).
bool is_valid_utf8(std::string_view text);

// [A-Za-z_][A-Za-z0-9_]*, the names systemd passes on in an environment.
bool is_valid_variable_name(std::string_view name);

// "'text'", for error messages (shared with the value parsers: values_internal.h, values.cpp).
std::string quoted(std::string_view text);

// A word together with the source text it came from, which parse_exec needs to tell "\;" from "\\;" and
// parse_environment needs to reject unknown escapes.
struct ScannedWord {
    std::string text;
    std::string_view raw;
    bool unknown_escape = false;  // an unknown escape or a trailing backslash was kept verbatim
};

// systemd's extract_first_word(EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE) applied word after word, in the
// relaxed mode that extract_first_word_and_warn falls back to: unknown escapes stay verbatim.
// The only error is "unbalanced quoting".
Result<std::vector<ScannedWord>> scan_words(std::string_view text);

}  // namespace gitvisor::unitfile::detail
