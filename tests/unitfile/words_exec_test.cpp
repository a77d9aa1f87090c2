#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "unitfile/words.h"

using gitvisor::unitfile::ExecCommand;
using gitvisor::unitfile::expand_exec_argv;
using gitvisor::unitfile::parse_exec;
using gitvisor::unitfile::quote_word;

namespace {

using Strings = std::vector<std::string>;
using Env = std::map<std::string, std::string>;

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

}  // namespace

// ---- parse_exec: SYNTAX §3 --------------------------------------------------------------------------------

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

TEST_CASE("quote_word output parses back as the same exec argument", "[words]") {
    const Strings args = {"semi", ";", "\\;", "a b", "", "$X"};
    std::string line = "/bin/echo";
    for (const std::string& arg : args) line += " " + quote_word(arg);
    auto command = single_command(line);
    Strings expected = {"/bin/echo"};
    expected.insert(expected.end(), args.begin(), args.end());
    CHECK(command.argv == expected);
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
