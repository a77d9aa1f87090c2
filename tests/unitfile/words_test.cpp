#include "unitfile/words.h"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

using gitvisor::unitfile::ExecCommand;
using gitvisor::unitfile::expand_exec_argv;
using gitvisor::unitfile::parse_environment;
using gitvisor::unitfile::parse_environment_file;
using gitvisor::unitfile::parse_exec;
using gitvisor::unitfile::quote_word;
using gitvisor::unitfile::split_words;

namespace {

using Strings = std::vector<std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;
using Env = std::map<std::string, std::string>;

// The words of `text`, failing the test if it does not split.
Strings words_of(std::string_view text) {
    auto result = split_words(text);
    INFO("input: " << text);
    REQUIRE(result);
    Strings out;
    for (const auto& word : *result) out.push_back(word.text);
    return out;
}

std::string split_error(std::string_view text) {
    auto result = split_words(text);
    INFO("input: " << text);
    REQUIRE_FALSE(result);
    return result.error();
}

std::vector<ExecCommand> commands_of(std::string_view text) {
    auto result = parse_exec(text);
    INFO("input: " << text);
    if (!result) INFO("error: " << result.error());
    REQUIRE(result);
    return *result;
}

std::string exec_error(std::string_view text) {
    auto result = parse_exec(text);
    INFO("input: " << text);
    REQUIRE_FALSE(result);
    return result.error();
}

ExecCommand single_command(std::string_view text) {
    auto commands = commands_of(text);
    REQUIRE(commands.size() == 1);
    return commands[0];
}

Strings expand(std::string_view text, const Env& env) { return expand_exec_argv(single_command(text), env); }

Pairs environment_of(std::string_view text) {
    auto result = parse_environment(text);
    INFO("input: " << text);
    if (!result) INFO("error: " << result.error());
    REQUIRE(result);
    return *result;
}

std::string environment_error(std::string_view text) {
    auto result = parse_environment(text);
    INFO("input: " << text);
    REQUIRE_FALSE(result);
    return result.error();
}

Pairs env_file_of(std::string_view text) {
    auto result = parse_environment_file(text);
    INFO("input: " << text);
    if (!result) INFO("error: " << result.error());
    REQUIRE(result);
    return *result;
}

}  // namespace

// ---- split_words: SYNTAX §2 ----------------------------------------------------------------------------

TEST_CASE("split_words splits at whitespace", "[words]") {
    CHECK(words_of("a b  c") == Strings{"a", "b", "c"});
    CHECK(words_of("  a\tb\nc\rd  ") == Strings{"a", "b", "c", "d"});
    CHECK(words_of("").empty());
    CHECK(words_of(" \t\r\n ").empty());
    // Other control characters and non-ASCII bytes are not separators.
    CHECK(words_of("a\vb\fc") == Strings{"a\vb\fc"});
    CHECK(words_of("h\xc3\xa9llo w\xc3\xb6rld") == Strings{"h\xc3\xa9llo", "w\xc3\xb6rld"});
}

TEST_CASE("split_words groups quoted text and removes the quotes", "[words]") {
    CHECK(words_of("\"a b\" 'c d'") == Strings{"a b", "c d"});
    CHECK(words_of("'a \"b\" c'") == Strings{"a \"b\" c"});
    CHECK(words_of("\"it's\"") == Strings{"it's"});
    CHECK(words_of("\"a\tb\nc\"") == Strings{"a\tb\nc"});
}

TEST_CASE("split_words accepts quotes opening mid-word as systemd 252 does", "[words]") {
    CHECK(words_of("a\"b c\"d") == Strings{"ab cd"});
    CHECK(words_of("'it''s'") == Strings{"its"});
    CHECK(words_of("\"x\"y") == Strings{"xy"});
    CHECK(words_of("x'a b'\"c d\"y z") == Strings{"xa bc dy", "z"});
    CHECK(words_of("--opt=\"a b\"") == Strings{"--opt=a b"});
}

TEST_CASE("split_words gives empty words for empty quotes", "[words]") {
    CHECK(words_of("\"\"") == Strings{""});
    CHECK(words_of("''") == Strings{""});
    CHECK(words_of("a \"\" '' b") == Strings{"a", "", "", "b"});
    CHECK(words_of("\"\"''") == Strings{""});
}

TEST_CASE("split_words decodes C escapes inside and outside quotes", "[words]") {
    CHECK(words_of(R"(\a\b\f\n\r\t\v)") == Strings{"\a\b\f\n\r\t\v"});
    CHECK(words_of(R"(a\\b)") == Strings{"a\\b"});
    CHECK(words_of(R"(\"x\")") == Strings{"\"x\""});
    CHECK(words_of(R"(\'x\')") == Strings{"'x'"});
    CHECK(words_of(R"(a\sb)") == Strings{"a b"});
    CHECK(words_of(R"("a\sb" 'c\td')") == Strings{"a b", "c\td"});
    // In single quotes too (SYNTAX §2: '… \x41' gives A).
    CHECK(words_of(R"('say \x41')") == Strings{"say A"});
    CHECK(words_of(R"("say \x41")") == Strings{"say A"});
    CHECK(words_of(R"('\"' "\'")") == Strings{"\"", "'"});
    CHECK(words_of(R"("a\"b")") == Strings{"a\"b"});
}

TEST_CASE("split_words decodes numeric escapes", "[words]") {
    CHECK(words_of(R"(\x41\x62)") == Strings{"Ab"});
    CHECK(words_of(R"(\x4A\x4a)") == Strings{"JJ"});
    CHECK(words_of(R"(\101\142)") == Strings{"Ab"});
    CHECK(words_of(R"(\377)") == Strings{"\xff"});  // one raw byte, not UTF-8
    CHECK(words_of(R"(\xe9)") == Strings{"\xe9"});
    CHECK(words_of(R"(\u00e9)") == Strings{"\xc3\xa9"});
    CHECK(words_of(R"(\u20AC)") == Strings{"\xe2\x82\xac"});
    CHECK(words_of(R"(\U0001F600)") == Strings{"\xf0\x9f\x98\x80"});
    CHECK(words_of(R"(\U000000e9)") == Strings{"\xc3\xa9"});
    CHECK(words_of(R"(\x20)") == Strings{" "});  // an escaped space does not split
    CHECK(words_of(R"(\x41BC)") == Strings{"ABC"});
}

TEST_CASE("split_words keeps unknown escapes verbatim", "[words]") {
    CHECK(words_of(R"(e\ f)") == Strings{"e\\ f"});
    CHECK(words_of(R"(a\-b)") == Strings{"a\\-b"});
    CHECK(words_of(R"(\;)") == Strings{"\\;"});
    CHECK(words_of(R"("\q")") == Strings{"\\q"});
    CHECK(words_of(R"('\.')") == Strings{"\\."});
    // Incomplete or out-of-range numeric escapes.
    CHECK(words_of(R"(\x4g)") == Strings{"\\x4g"});
    CHECK(words_of(R"(\x4)") == Strings{"\\x4"});
    CHECK(words_of(R"(\x)") == Strings{"\\x"});
    CHECK(words_of(R"(\u12)") == Strings{"\\u12"});
    CHECK(words_of(R"(\u12g4)") == Strings{"\\u12g4"});
    CHECK(words_of(R"(\U0000004)") == Strings{"\\U0000004"});
    CHECK(words_of(R"(\12)") == Strings{"\\12"});
    CHECK(words_of(R"(\18)") == Strings{"\\18"});
    CHECK(words_of(R"(\777)") == Strings{"\\777"});
    CHECK(words_of(R"(\8)") == Strings{"\\8"});
    // Nothing decodes to NUL.
    CHECK(words_of(R"(\x00)") == Strings{"\\x00"});
    CHECK(words_of(R"(\000)") == Strings{"\\000"});
    CHECK(words_of(R"(\u0000)") == Strings{"\\u0000"});
    CHECK(words_of(R"(\U00000000)") == Strings{"\\U00000000"});
    // \U must be a valid code point.
    CHECK(words_of(R"(\U00110000)") == Strings{"\\U00110000"});
    CHECK(words_of(R"(\U0000D800)") == Strings{"\\U0000D800"});
    CHECK(words_of(R"(\UFFFFFFFF)") == Strings{"\\UFFFFFFFF"});
}

TEST_CASE("split_words keeps a trailing lone backslash", "[words]") {
    CHECK(words_of("a\\") == Strings{"a\\"});
    CHECK(words_of("a \\") == Strings{"a", "\\"});
    CHECK(words_of("\\") == Strings{"\\"});
}

TEST_CASE("split_words rejects unbalanced quotes", "[words]") {
    CHECK(split_error("\"abc") == "unbalanced quoting");
    CHECK(split_error("a 'b c") == "unbalanced quoting");
    CHECK(split_error("a\"b c") == "unbalanced quoting");
    CHECK(split_error("'a' \"") == "unbalanced quoting");
    CHECK(split_error("\"abc\\\"") == "unbalanced quoting");  // the escaped quote does not close
    CHECK(split_error("\"abc\\") == "unbalanced quoting");
    CHECK(split_error("'it's'") == "unbalanced quoting");
}

TEST_CASE("split_words marks only an unquoted, unescaped lone semicolon as a separator", "[words]") {
    auto result = split_words(R"(a ; \; ";" ';' b; ;c ;;)");
    REQUIRE(result);
    const auto& words = *result;
    REQUIRE(words.size() == 8);
    CHECK(words[0].text == "a");
    CHECK_FALSE(words[0].bare_semicolon);
    CHECK(words[1].text == ";");
    CHECK(words[1].bare_semicolon);
    CHECK(words[2].text == "\\;");
    CHECK_FALSE(words[2].bare_semicolon);
    CHECK(words[3].text == ";");
    CHECK_FALSE(words[3].bare_semicolon);
    CHECK(words[4].text == ";");
    CHECK_FALSE(words[4].bare_semicolon);
    CHECK(words[5].text == "b;");
    CHECK_FALSE(words[5].bare_semicolon);
    CHECK(words[6].text == ";c");
    CHECK_FALSE(words[6].bare_semicolon);
    CHECK(words[7].text == ";;");
    CHECK_FALSE(words[7].bare_semicolon);
}

TEST_CASE("split_words keeps NUL and invalid UTF-8 bytes as they are", "[words]") {
    using namespace std::string_literals;
    CHECK(words_of("a\0b c"s) == Strings{"a\0b"s, "c"});
    CHECK(words_of("\xff\xfe") == Strings{"\xff\xfe"});
}

// ---- quote_word
// ---------------------------------------------------------------------------------------------

TEST_CASE("quote_word leaves plain words alone", "[words]") {
    CHECK(quote_word("/usr/bin/env") == "/usr/bin/env");
    CHECK(quote_word("--listen=0.0.0.0:80") == "--listen=0.0.0.0:80");
    CHECK(quote_word("h\xc3\xa9llo") == "h\xc3\xa9llo");
}

TEST_CASE("quote_word quotes what split_words would change", "[words]") {
    CHECK(quote_word("") == "\"\"");
    CHECK(quote_word("a b") == "\"a b\"");
    CHECK(quote_word(";") == "\";\"");
    CHECK(quote_word("say \"hi\"") == R"("say \"hi\"")");
    CHECK(quote_word("a\\b") == R"("a\\b")");
    CHECK(quote_word("it's") == "\"it's\"");
    CHECK(quote_word("a\nb\tc") == R"("a\nb\tc")");
    CHECK(quote_word("\x01") == R"("\x01")");
    CHECK(quote_word("\x7f") == R"("\x7f")");
    CHECK(quote_word("\xff") == R"("\xff")");
}

TEST_CASE("quote_word round-trips through split_words", "[words]") {
    using namespace std::string_literals;
    const Strings nasty = {
        "",
        " ",
        "a b",
        "  leading and trailing  ",
        "\"",
        "'",
        "\"'\"'",
        "it's \"quoted\"",
        "\\",
        "\\\\",
        "a\\",
        "\\;",
        ";",
        ";;",
        "e\\ f",
        "\\x41",
        "\\n",
        "$HOME ${HOME} $$",
        "%i %%",
        "#not a comment",
        "tab\there",
        "new\nline",
        "cr\rlf\n",
        "\a\b\f\v\x1b",
        "\x01\x02\x1f\x7f",
        "nul\0byte"s,
        "\0"s,
        "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80",
        "\xff\xfe bad utf8 \xc3",
        "\xed\xa0\x80",  // an encoded surrogate
        "\xc0\x80",      // an overlong NUL
        "|&<>(){}[]*?!`~",
    };
    for (const std::string& word : nasty) {
        const std::string quoted = quote_word(word);
        INFO("word: " << word << "\nquoted: " << quoted);
        auto result = split_words(quoted);
        REQUIRE(result);
        REQUIRE(result->size() == 1);
        CHECK((*result)[0].text == word);
        CHECK_FALSE((*result)[0].bare_semicolon);
    }
    // Several quoted words joined by spaces split back into the same list.
    std::string line;
    for (const std::string& word : nasty) line += quote_word(word) + " ";
    CHECK(words_of(line) == nasty);
}

TEST_CASE("quote_word output parses back as the same exec argument", "[words]") {
    const Strings args = {"semi", ";", "\\;", "a b", "", "$X"};
    std::string line = "/bin/echo";
    for (const std::string& arg : args) line += " " + quote_word(arg);
    auto command = single_command(line);
    Strings expected = {"/bin/echo"};
    expected.insert(expected.end(), args.begin(), args.end());
    CHECK(command.argv == expected);
}

// ---- parse_exec: SYNTAX §3
// ----------------------------------------------------------------------------------

TEST_CASE("parse_exec reads a simple command", "[words]") {
    auto command = single_command("/bin/echo hello \"big world\"");
    CHECK(command.path == "/bin/echo");
    CHECK(command.argv == Strings{"/bin/echo", "hello", "big world"});
    CHECK(command.prefixes().empty());
    CHECK_FALSE(command.ignore_failure);
    CHECK_FALSE(command.override_argv0);
    CHECK_FALSE(command.no_env_expand);
    CHECK_FALSE(command.full_privileges);
    CHECK_FALSE(command.no_setuid);
    CHECK_FALSE(command.ambient_fallback);
}

TEST_CASE("parse_exec accepts a bare program name", "[words]") {
    auto command = single_command("echo hi");
    CHECK(command.path == "echo");
    CHECK(command.argv == Strings{"echo", "hi"});
}

TEST_CASE("parse_exec passes shell syntax and '#' through as arguments", "[words]") {
    auto command = single_command("/bin/echo x # y | z > f && g *");
    CHECK(command.argv == Strings{"/bin/echo", "x", "#", "y", "|", "z", ">", "f", "&&", "g", "*"});
    command = single_command("/bin/sh -c 'echo $HOME; exit 3'");
    CHECK(command.argv == Strings{"/bin/sh", "-c", "echo $HOME; exit 3"});
}

TEST_CASE("parse_exec gives an empty list for an empty value", "[words]") {
    CHECK(commands_of("").empty());
    CHECK(commands_of("   ").empty());
}

TEST_CASE("parse_exec separates commands at a bare semicolon", "[words]") {
    auto commands = commands_of("/bin/echo semi \\; ; /bin/echo second");
    REQUIRE(commands.size() == 2);
    CHECK(commands[0].path == "/bin/echo");
    CHECK(commands[0].argv == Strings{"/bin/echo", "semi", ";"});
    CHECK(commands[1].path == "/bin/echo");
    CHECK(commands[1].argv == Strings{"/bin/echo", "second"});

    commands = commands_of("/bin/a;b ; -/bin/c\t;\t/bin/d x");
    REQUIRE(commands.size() == 3);
    CHECK(commands[0].argv == Strings{"/bin/a;b"});
    CHECK(commands[1].argv == Strings{"/bin/c"});
    CHECK(commands[1].ignore_failure);
    CHECK(commands[2].argv == Strings{"/bin/d", "x"});
}

TEST_CASE("parse_exec keeps a semicolon that is escaped, quoted or glued literal", "[words]") {
    auto command = single_command(R"(/bin/echo ";" ';' semi;glued ;x \; "\;" \\;)");
    CHECK(command.argv == Strings{"/bin/echo", ";", ";", "semi;glued", ";x", ";", "\\;", "\\;"});
    // "\;" only counts as a literal ';' on its own; "\;x" is an unknown escape kept verbatim.
    command = single_command(R"(/bin/echo \;x)");
    CHECK(command.argv == Strings{"/bin/echo", "\\;x"});
}

TEST_CASE("parse_exec skips empty commands between separators", "[words]") {
    auto commands = commands_of("; /bin/a ; ; /bin/b ;");
    REQUIRE(commands.size() == 2);
    CHECK(commands[0].argv == Strings{"/bin/a"});
    CHECK(commands[1].argv == Strings{"/bin/b"});
    CHECK(commands_of(";").empty());
}

TEST_CASE("parse_exec reads the '@' prefix", "[words]") {
    auto command = single_command("@/bin/echo argv0 real-arg");
    CHECK(command.path == "/bin/echo");
    CHECK(command.argv == Strings{"argv0", "real-arg"});
    CHECK(command.override_argv0);
    CHECK(command.prefixes() == "@");

    command = single_command("@/bin/sleep sleeper");
    CHECK(command.argv == Strings{"sleeper"});
}

TEST_CASE("parse_exec reads every prefix", "[words]") {
    auto command = single_command("-/bin/false");
    CHECK(command.ignore_failure);
    CHECK(command.path == "/bin/false");
    CHECK(command.argv == Strings{"/bin/false"});
    CHECK(command.prefixes() == "-");

    command = single_command(":/bin/echo $X");
    CHECK(command.no_env_expand);
    CHECK(command.prefixes() == ":");

    command = single_command("+/bin/true");
    CHECK(command.full_privileges);
    CHECK(command.prefixes() == "+");

    command = single_command("!/bin/true");
    CHECK(command.no_setuid);
    CHECK_FALSE(command.ambient_fallback);
    CHECK(command.prefixes() == "!");

    command = single_command("!!/bin/true");
    CHECK(command.ambient_fallback);
    CHECK_FALSE(command.no_setuid);
    CHECK(command.prefixes() == "!!");
    CHECK(command.path == "/bin/true");
}

TEST_CASE("parse_exec accepts prefixes in any order and prints them canonically", "[words]") {
    auto command = single_command("+:@-/bin/echo zero one");
    CHECK(command.ignore_failure);
    CHECK(command.override_argv0);
    CHECK(command.no_env_expand);
    CHECK(command.full_privileges);
    CHECK(command.path == "/bin/echo");
    CHECK(command.argv == Strings{"zero", "one"});
    CHECK(command.prefixes() == "-@:+");

    command = single_command("!!-:/bin/true");
    CHECK(command.prefixes() == "-:!!");
    command = single_command("@!-echo zero");
    CHECK(command.prefixes() == "-@!");
    CHECK(command.path == "echo");
}

TEST_CASE("parse_exec reads prefixes after unquoting, as systemd does", "[words]") {
    auto command = single_command("\"-/bin/my prog\" x");
    CHECK(command.ignore_failure);
    CHECK(command.path == "/bin/my prog");
    CHECK(command.argv == Strings{"/bin/my prog", "x"});
}

TEST_CASE("parse_exec keeps the program path as written", "[words]") {
    auto command = single_command("//usr//bin/env A=1");
    CHECK(command.path == "//usr//bin/env");
    CHECK(command.argv == Strings{"//usr//bin/env", "A=1"});
}

TEST_CASE("parse_exec rejects conflicting and repeated prefixes", "[words]") {
    const std::string conflict = "conflicting prefixes: only one of '+', '!' and '!!' may be used";
    CHECK(exec_error("+!/bin/true") == conflict);
    CHECK(exec_error("!+/bin/true") == conflict);
    CHECK(exec_error("+!!/bin/true") == conflict);
    CHECK(exec_error("!!!/bin/true") == conflict);
    CHECK(exec_error("!!+/bin/true") == conflict);
    CHECK(exec_error("--/bin/true") == "prefix '-' given twice");
    CHECK(exec_error("@-@/bin/true x") == "prefix '@' given twice");
    CHECK(exec_error("::/bin/true") == "prefix ':' given twice");
    CHECK(exec_error("++/bin/true") == "prefix '+' given twice");
    CHECK(exec_error("!!!!/bin/true") == "prefix '!!' given twice");
    // A later command with bad prefixes fails the whole value.
    CHECK(exec_error("/bin/true ; +!/bin/true") == conflict);
}

TEST_CASE("parse_exec rejects an empty command after prefixes", "[words]") {
    CHECK(exec_error("-") == "empty command after prefixes");
    CHECK(exec_error("@") == "empty command after prefixes");
    CHECK(exec_error("-@+") == "empty command after prefixes");
    CHECK(exec_error("\"\" arg") == "empty command after prefixes");
    CHECK(exec_error("/bin/true ; -") == "empty command after prefixes");
}

TEST_CASE("parse_exec rejects '@' without an argv[0] word", "[words]") {
    CHECK(exec_error("@/bin/echo") == "'@' without an argv[0] word after '/bin/echo'");
    CHECK(exec_error("@/bin/echo ; /bin/true") == "'@' without an argv[0] word after '/bin/echo'");
}

TEST_CASE("parse_exec rejects relative paths with a slash", "[words]") {
    CHECK(exec_error("bin/echo hi") ==
          "program 'bin/echo' is a relative path; it must be an absolute path or a bare program name");
    CHECK(exec_error("./run") ==
          "program './run' is a relative path; it must be an absolute path or a bare program name");
    CHECK(exec_error("-../x") ==
          "program '../x' is a relative path; it must be an absolute path or a bare program name");
    CHECK(exec_error("..") == "program '..' must be an absolute path or a bare program name");
    CHECK(exec_error(".") == "program '.' must be an absolute path or a bare program name");
    CHECK(exec_error(std::string(256, 'x')) ==
          "program '" + std::string(256, 'x') + "' must be an absolute path or a bare program name");
    CHECK(single_command(std::string(255, 'x')).path == std::string(255, 'x'));
}

TEST_CASE("parse_exec rejects odd program paths as systemd does", "[words]") {
    CHECK(exec_error("/usr/bin/") == "program path '/usr/bin/' names a directory");
    CHECK(exec_error("/bin/a\\\\b") == "program path '/bin/a\\b' contains quotes or backslashes");
    CHECK(exec_error("\"/bin/it's\"") == "program path '/bin/it's' contains quotes or backslashes");
    CHECK(exec_error("\\;") == "program path '\\;' contains quotes or backslashes");
    CHECK(exec_error("/bin/a\\nb") == "control characters in the program path");
    CHECK(exec_error("/bin/a\\x7f") == "control characters in the program path");
}

TEST_CASE("parse_exec rejects control characters in the command line", "[words]") {
    using namespace std::string_literals;
    CHECK(exec_error("/bin/echo a\x01") == "control characters in command line");
    CHECK(exec_error("/bin/echo \"a\x1b[0m\"") == "control characters in command line");
    CHECK(exec_error("/bin/echo a\x7f") == "control characters in command line");
    CHECK(exec_error("/bin/echo a\0b"s) == "control characters in command line");
    // Tabs, newlines and carriage returns are whitespace; escaped control characters are fine in arguments.
    CHECK(single_command("/bin/echo\ta\r\nb").argv == Strings{"/bin/echo", "a", "b"});
    CHECK(single_command("/bin/printf 'a\\tb\\n'").argv == Strings{"/bin/printf", "a\tb\n"});
}

TEST_CASE("parse_exec reports unbalanced quoting", "[words]") {
    CHECK(exec_error("/bin/echo \"unterminated") == "unbalanced quoting");
    CHECK(exec_error("/bin/true ; /bin/echo 'x") == "unbalanced quoting");
}

TEST_CASE("parse_exec decodes escapes in arguments and keeps unknown ones", "[words]") {
    auto command = single_command(R"(/bin/echo e\ f \x41 "a\sb" '\u00e9')");
    CHECK(command.argv == Strings{"/bin/echo", "e\\ f", "A", "a b", "\xc3\xa9"});
    command = single_command(R"(/bin/echo "" '' x)");
    CHECK(command.argv == Strings{"/bin/echo", "", "", "x"});
}

TEST_CASE("parse_exec keeps $ references unexpanded", "[words]") {
    auto command = single_command("/bin/echo $A ${B} $$");
    CHECK(command.argv == Strings{"/bin/echo", "$A", "${B}", "$$"});
}

TEST_CASE("ExecCommand compares field by field", "[words]") {
    CHECK(single_command("-/bin/a x") == single_command("-/bin/a   x"));
    CHECK_FALSE(single_command("-/bin/a x") == single_command("/bin/a x"));
}

// ---- expand_exec_argv: SYNTAX §3 "Variable expansion" ----------------------------------------------------

TEST_CASE("expand_exec_argv splits a whole-word $NAME", "[words]") {
    const Env env = {{"OPTS", "-a  -b\t-c"}, {"ONE", "single"}};
    CHECK(expand("/bin/prog $OPTS end", env) == Strings{"/bin/prog", "-a", "-b", "-c", "end"});
    CHECK(expand("/bin/prog $ONE", env) == Strings{"/bin/prog", "single"});
}

TEST_CASE("expand_exec_argv keeps ${NAME} as one argument", "[words]") {
    const Env env = {{"OPTS", "-a -b"}, {"X", "x"}};
    CHECK(expand("/bin/prog ${OPTS}", env) == Strings{"/bin/prog", "-a -b"});
    CHECK(expand("/bin/prog --opts=${OPTS}! pre${X}post ${X}${X}", env) ==
          Strings{"/bin/prog", "--opts=-a -b!", "prexpost", "xx"});
}

TEST_CASE("expand_exec_argv expands unset variables to nothing", "[words]") {
    const Env env;
    CHECK(expand("/bin/prog ${X} $X end", env) == Strings{"/bin/prog", "", "end"});
    CHECK(expand("/bin/prog a${X}b", env) == Strings{"/bin/prog", "ab"});
}

TEST_CASE("expand_exec_argv gives 0..n words for an empty or blank value", "[words]") {
    const Env env = {{"EMPTY", ""}, {"BLANK", "  \t "}};
    CHECK(expand("/bin/prog $EMPTY $BLANK x", env) == Strings{"/bin/prog", "x"});
    CHECK(expand("/bin/prog ${EMPTY} ${BLANK}", env) == Strings{"/bin/prog", "", "  \t "});
}

TEST_CASE("expand_exec_argv turns $$ into $", "[words]") {
    const Env env = {{"X", "x"}};
    CHECK(expand("/bin/prog $$ $$X a$$b $${X} $$$", env) ==
          Strings{"/bin/prog", "$", "$X", "a$b", "${X}", "$$"});
}

TEST_CASE("expand_exec_argv honours quotes and backslashes in a $NAME value", "[words]") {
    const Env env = {
        {"Q", "a \"b c\" 'd e' f\\ g"},
        {"ESC", "x\\ty \\\\ 'it\\'s'"},
        {"EMPTYQ", "'' \"\""},
        {"OPEN", "a 'b c"},
        {"TRAIL", "a b\\"},
    };
    CHECK(expand("/bin/p $Q", env) == Strings{"/bin/p", "a", "b c", "d e", "f g"});
    // No C escapes in values: a backslash just takes the next character.
    CHECK(expand("/bin/p $ESC", env) == Strings{"/bin/p", "xty", "\\", "it's"});
    CHECK(expand("/bin/p $EMPTYQ", env) == Strings{"/bin/p", "", ""});
    // Unbalanced quotes and a trailing backslash are tolerated.
    CHECK(expand("/bin/p $OPEN", env) == Strings{"/bin/p", "a", "b c"});
    CHECK(expand("/bin/p $TRAIL", env) == Strings{"/bin/p", "a", "b"});
    // ${NAME} takes the value exactly.
    CHECK(expand("/bin/p ${Q}", env) == Strings{"/bin/p", "a \"b c\" 'd e' f\\ g"});
}

TEST_CASE("expand_exec_argv leaves $NAME inside a larger word alone", "[words]") {
    // man systemd.service: only "$FOO" as a separate word is replaced; within a word only ${FOO} is.
    const Env env = {{"FOO", "foo"}};
    CHECK(expand("/bin/p a$FOO --x=$FOO x$FOO$FOO", env) ==
          Strings{"/bin/p", "a$FOO", "--x=$FOO", "x$FOO$FOO"});
}

TEST_CASE("expand_exec_argv looks up a word starting with '$' as a whole name", "[words]") {
    // As in systemd 252: "$FOO-bar" names the variable "FOO-bar", which cannot exist, so it disappears,
    // and so does a lone "$".
    const Env env = {{"FOO", "foo"}};
    CHECK(expand("/bin/p $FOO-bar $FOO/x $ $1 x", env) == Strings{"/bin/p", "x"});
}

TEST_CASE("expand_exec_argv leaves unsupported ${...} forms literal", "[words]") {
    const Env env = {{"X", "x"}};
    CHECK(expand("/bin/p ${X:-dflt} ${X ${X}", env) == Strings{"/bin/p", "${X:-dflt}", "${X", "x"});
    CHECK(expand("/bin/p ${X:-d}${X} a$ ${}", env) == Strings{"/bin/p", "${X:-d}x", "a$", ""});
    CHECK(expand("/bin/p ${X}}", env) == Strings{"/bin/p", "x}"});
}

TEST_CASE("expand_exec_argv does not expand argv[0]", "[words]") {
    const Env env = {{"NAME", "expanded"}};
    auto command = single_command("@/bin/prog ${NAME} $NAME");
    CHECK(expand_exec_argv(command, env) == Strings{"${NAME}", "expanded"});
    command = single_command("@/bin/prog $NAME x");
    CHECK(expand_exec_argv(command, env) == Strings{"$NAME", "x"});
}

TEST_CASE("expand_exec_argv leaves ':' commands unchanged", "[words]") {
    const Env env = {{"A", "1 2"}};
    auto command = single_command(":/bin/echo $A ${A} $$");
    CHECK(expand_exec_argv(command, env) == Strings{"/bin/echo", "$A", "${A}", "$$"});
}

TEST_CASE("expand_exec_argv handles an empty argv", "[words]") {
    ExecCommand command;
    CHECK(expand_exec_argv(command, Env{{"A", "b"}}).empty());
}

// ---- parse_environment: SYNTAX §4 -------------------------------------------------------------------------

TEST_CASE("parse_environment reads quoted assignments", "[words]") {
    CHECK(environment_of("\"A=1 2\" 'B=x y' C=3") == Pairs{{"A", "1 2"}, {"B", "x y"}, {"C", "3"}});
    CHECK(environment_of("VAR1=word1 word2=x") == Pairs{{"VAR1", "word1"}, {"word2", "x"}});
    CHECK(environment_of("A=\"quoted value\"") == Pairs{{"A", "quoted value"}});
}

TEST_CASE("parse_environment keeps values as written", "[words]") {
    CHECK(environment_of("A= B=x=y C=$HOME D=${X} E=%%") ==
          Pairs{{"A", ""}, {"B", "x=y"}, {"C", "$HOME"}, {"D", "${X}"}, {"E", "%%"}});
    CHECK(environment_of("A=tab\\there A=second") == Pairs{{"A", "tab\there"}, {"A", "second"}});
    CHECK(environment_of("_x9=\\u00e9") == Pairs{{"_x9", "\xc3\xa9"}});
}

TEST_CASE("parse_environment of an empty value is empty", "[words]") {
    CHECK(environment_of("").empty());
    CHECK(environment_of("  ").empty());
}

TEST_CASE("parse_environment rejects invalid names", "[words]") {
    CHECK(environment_error("1X=a") == "invalid variable name '1X'");
    CHECK(environment_error("A=1 B-C=2") == "invalid variable name 'B-C'");
    CHECK(environment_error("=x") == "invalid variable name ''");
    CHECK(environment_error("\"A B=x\"") == "invalid variable name 'A B'");
    CHECK(environment_error("\xc3\xa9=x") == "invalid variable name '\xc3\xa9'");
}

TEST_CASE("parse_environment rejects a word without '='", "[words]") {
    CHECK(environment_error("A=1 oops") == "missing '=' in 'oops'");
    CHECK(environment_error("\"\"") == "missing '=' in ''");
}

TEST_CASE("parse_environment rejects bad quoting and escapes", "[words]") {
    CHECK(environment_error("\"A=1") == "unbalanced quoting");
    CHECK(environment_error("A=a\\.b") ==
          "unknown escape sequence in 'A=a\\.b' (write '\\\\' for a backslash)");
    CHECK(environment_error("A=x\\") == "unknown escape sequence in 'A=x\\' (write '\\\\' for a backslash)");
    CHECK(environment_of("A=a\\\\.b") == Pairs{{"A", "a\\.b"}});
}

TEST_CASE("parse_environment rejects values that are not UTF-8", "[words]") {
    CHECK(environment_error("A=\\xff") == "invalid UTF-8 in the value of 'A'");
    CHECK(environment_error("A=\\u0000x B=\\uD800") ==
          "unknown escape sequence in 'A=\\u0000x' (write '\\\\' for a backslash)");
    CHECK(environment_error("B=\\uD800") == "invalid UTF-8 in the value of 'B'");
}

// ---- parse_environment_file: SYNTAX §4
// ---------------------------------------------------------------------

TEST_CASE("parse_environment_file reads simple assignments", "[words]") {
    CHECK(env_file_of("A=1\nB=two words\n") == Pairs{{"A", "1"}, {"B", "two words"}});
    CHECK(env_file_of("A=1") == Pairs{{"A", "1"}});
    CHECK(env_file_of("").empty());
    CHECK(env_file_of("A=\nB=") == Pairs{{"A", ""}, {"B", ""}});
}

TEST_CASE("parse_environment_file skips comments, blank lines and lines without '='", "[words]") {
    const char* text =
        "# comment A=1\n"
        "; comment B=2\n"
        "   # indented comment\n"
        "\n"
        "   \t\n"
        "no equals sign\n"
        "C=3\n";
    CHECK(env_file_of(text) == Pairs{{"C", "3"}});
}

TEST_CASE("parse_environment_file has no trailing comments", "[words]") {
    CHECK(env_file_of("A=1 # not a comment\nB=x;y") == Pairs{{"A", "1 # not a comment"}, {"B", "x;y"}});
}

TEST_CASE("parse_environment_file continues a comment ending in a backslash, as systemd 252 does",
          "[words]") {
    CHECK(env_file_of("# comment \\\nA=hidden\nB=shown") == Pairs{{"B", "shown"}});
    CHECK(env_file_of("# comment \\x\nA=shown") == Pairs{{"A", "shown"}});
}

TEST_CASE("parse_environment_file trims unquoted values and names", "[words]") {
    CHECK(env_file_of("  A  =   spaced value \t \nB\t=\tx") == Pairs{{"A", "spaced value"}, {"B", "x"}});
}

TEST_CASE("parse_environment_file processes backslashes in unquoted values", "[words]") {
    CHECK(env_file_of(R"(A=a\ b\\c\"d\$e\nf)") == Pairs{{"A", "a b\\c\"d$enf"}});
    // An escaped trailing space survives trimming.
    CHECK(env_file_of("A=x \\ \nB=y") == Pairs{{"A", "x  "}, {"B", "y"}});
    CHECK(env_file_of("A=\\ lead") == Pairs{{"A", " lead"}});
    // Backslash-newline continues the value.
    CHECK(env_file_of("A=first \\\nsecond\nB=2") == Pairs{{"A", "first second"}, {"B", "2"}});
    // A backslash at the very end is dropped.
    CHECK(env_file_of("A=x\\") == Pairs{{"A", "x"}});
}

TEST_CASE("parse_environment_file keeps single-quoted values verbatim", "[words]") {
    CHECK(env_file_of(R"(A='a \n "b" $c \')") == Pairs{{"A", "a \\n \"b\" $c \\"}});
    CHECK(env_file_of("A='line one\nline two'\nB=2") == Pairs{{"A", "line one\nline two"}, {"B", "2"}});
    CHECK(env_file_of("A='  padded  '") == Pairs{{"A", "  padded  "}});
}

TEST_CASE("parse_environment_file applies shell escapes in double quotes", "[words]") {
    CHECK(env_file_of(R"(A="q\" b\\ d\$ t\` other\n\x")") == Pairs{{"A", "q\" b\\ d$ t` other\\n\\x"}});
    CHECK(env_file_of("A=\"one\\\ntwo\"") == Pairs{{"A", "onetwo"}});
    CHECK(env_file_of("A=\"line one\nline two\"\nB=2") == Pairs{{"A", "line one\nline two"}, {"B", "2"}});
    CHECK(env_file_of("A=\"  padded  \"") == Pairs{{"A", "  padded  "}});
}

TEST_CASE("parse_environment_file joins quoted and unquoted parts as systemd does", "[words]") {
    CHECK(env_file_of("A=\"a\"'b'c") == Pairs{{"A", "abc"}});
    CHECK(env_file_of("A=\"a b\"  c d  ") == Pairs{{"A", "a bc d"}});
    CHECK(env_file_of("A=x 'y'") == Pairs{{"A", "x 'y'"}});
    CHECK(env_file_of("A=  \"x\"  ") == Pairs{{"A", "x"}});
}

TEST_CASE("parse_environment_file keeps an unterminated quote to the end of the file", "[words]") {
    CHECK(env_file_of("A='open\nB=2") == Pairs{{"A", "open\nB=2"}});
    CHECK(env_file_of("A=\"open\\") == Pairs{{"A", "open"}});
}

TEST_CASE("parse_environment_file accepts a leading export", "[words]") {
    CHECK(env_file_of("export A=1\nexport\tB=2\nexport  C = 3\nexportD=4") ==
          Pairs{{"A", "1"}, {"B", "2"}, {"C", "3"}, {"exportD", "4"}});
}

TEST_CASE("parse_environment_file drops assignments with invalid names", "[words]") {
    CHECK(env_file_of("1X=a\nA B=c\ntest \"$x\" = y\n==x\n=x\nOK=1") == Pairs{{"OK", "1"}});
}

TEST_CASE("parse_environment_file keeps duplicates in order", "[words]") {
    CHECK(env_file_of("A=1\nA=2") == Pairs{{"A", "1"}, {"A", "2"}});
}

TEST_CASE("parse_environment_file accepts CRLF line endings", "[words]") {
    CHECK(env_file_of("A=1\r\nB=\"x\"\r\n# c\r\nC=3\r\n") == Pairs{{"A", "1"}, {"B", "x"}, {"C", "3"}});
}

TEST_CASE("parse_environment_file stops at a NUL byte", "[words]") {
    using namespace std::string_literals;
    CHECK(env_file_of("A=1\nB=2\0C=3"s) == Pairs{{"A", "1"}, {"B", "2"}});
}

TEST_CASE("parse_environment_file rejects invalid UTF-8", "[words]") {
    auto result = parse_environment_file("A=1\n\nB=\xff\n");
    REQUIRE_FALSE(result);
    CHECK(result.error() == "line 3: invalid UTF-8 in the value of 'B'");
    result = parse_environment_file("\xc3=1");
    REQUIRE_FALSE(result);
    CHECK(result.error() == "line 1: invalid UTF-8 in a variable name");
    CHECK(env_file_of("A=h\xc3\xa9") == Pairs{{"A", "h\xc3\xa9"}});
}
