#include "unitfile/words.h"

// Exec*= command lines: prefixes, program path and arguments (systemd's config_parse_exec), and the
// expansion of $NAME and ${NAME} when the command runs (systemd's replace_env_argv).

#include <cstddef>

#include "unitfile/words_internal.h"

namespace gitvisor::unitfile {

using namespace detail;

namespace {

// The longest file name the kernel accepts (NAME_MAX); a bare program name must fit in it.
constexpr std::size_t kMaxNameLength = 255;

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

}  // namespace gitvisor::unitfile
