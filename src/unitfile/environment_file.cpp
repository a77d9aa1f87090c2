#include <cstddef>
#include <optional>

#include "unitfile/words.h"
#include "unitfile/words_internal.h"

namespace gitvisor::unitfile {

using namespace detail;

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
