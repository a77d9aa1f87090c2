#include "unitfile/words.h"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

using gitvisor::unitfile::parse_environment;
using gitvisor::unitfile::quote_word;
using gitvisor::unitfile::split_words;

namespace {

using Strings = std::vector<std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;

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

// ---- quote_word -------------------------------------------------------------------------------------------

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
