#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "unitfile/words.h"

using gitvisor::unitfile::parse_environment_file;

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs env_file_of(std::string_view text) {
    auto result = parse_environment_file(text);
    INFO("input: " << text);
    if (!result) INFO("error: " << result.error());
    REQUIRE(result);
    return *result;
}

}  // namespace

// ---- parse_environment_file: SYNTAX §4 --------------------------------------------------------------------

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
