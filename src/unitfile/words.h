#pragma once
// Word splitting, quoting and Exec command lines as systemd 252 reads them (SYSTEMD-SYNTAX.md §2-§4,
// man systemd.service "COMMAND LINES", man systemd.syntax "Quoting").
// Implemented by words.cpp (splitting, quoting, Environment=), words_exec.cpp (Exec*= lines and their
// $NAME expansion) and environment_file.cpp (EnvironmentFile=).

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace gitvisor::unitfile {

// One word of a split value. `bare_semicolon` is true only for an unquoted, unescaped ";" standing alone.
struct Word {
    std::string text;
    bool bare_semicolon = false;
};

// Splits at whitespace. Double and single quotes group (quotes may open mid-word, as systemd 252 accepts:
// a"b c"d -> "ab cd"; "" -> empty word). C escapes \a \b \f \n \r \t \v \\ \" \' \s \xHH \NNN \uXXXX
// \UXXXXXXXX are decoded inside and outside quotes; an unknown escape (e.g. "\-", "\ ") is kept verbatim,
// backslash included. A trailing lone backslash is kept. Unbalanced quotes -> error "unbalanced quoting".
Result<std::vector<Word>> split_words(std::string_view text);

// Quotes a word so that split_words gives it back unchanged (for printing argv).
std::string quote_word(std::string_view word);

// One command of an Exec*= directive.
struct ExecCommand {
    std::string path;               // the program as written (absolute, or a bare name)
    std::vector<std::string> argv;  // argv[0] first: the path, or with '@' the word after it
    bool ignore_failure = false;    // '-'
    bool override_argv0 = false;    // '@'
    bool no_env_expand = false;     // ':'
    bool full_privileges = false;   // '+'
    bool no_setuid = false;         // '!'
    bool ambient_fallback = false;  // '!!'
    // The prefixes in canonical order "-@:+!!" (each present one once), e.g. "-@".
    std::string prefixes() const;
    bool operator==(const ExecCommand&) const = default;
};

// Parses one Exec*= value into commands. A bare ";" word separates commands; "\;" and ";" inside a word
// or quotes are literal. Prefixes: any of - @ : + ! !! in any order, at most one of + ! !!, each at most
// once. Errors (a phrase, the caller adds file:line): unbalanced quoting, empty command after prefixes,
// "@" without an argv[0] word, a relative path containing '/' (must be absolute or a bare name),
// conflicting prefixes, control characters. An empty value gives an empty list (the caller treats it as
// reset).
Result<std::vector<ExecCommand>> parse_exec(std::string_view text);

// Expands $VAR / ${VAR} in argv[1..] at exec time (not on ':' commands): a word that is exactly "$NAME"
// becomes the value split at whitespace (0..n words); "${NAME}" anywhere in a word is replaced by the
// value within that word; "$$" is a literal '$'; unset variables expand to empty. argv[0] is not expanded.
std::vector<std::string> expand_exec_argv(const ExecCommand& command,
                                          const std::map<std::string, std::string>& env);

// Environment=: words of the form NAME=value (quoting as split_words). NAME must be [A-Za-z_][A-Za-z0-9_]*.
// Returns the assignments in order (later duplicates are kept; the caller lets the last win).
Result<std::vector<std::pair<std::string, std::string>>> parse_environment(std::string_view text);

// The contents of an EnvironmentFile=: lines NAME=value, '#'/';' comment lines, blank lines and lines
// without '=' skipped; unquoted values trimmed with backslash escapes processed; '...' verbatim and "..."
// with shell double-quote escapes, both may span lines; a leading "export " is accepted.
Result<std::vector<std::pair<std::string, std::string>>> parse_environment_file(std::string_view text);

}  // namespace gitvisor::unitfile
