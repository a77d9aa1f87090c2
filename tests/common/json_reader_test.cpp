#include "common/json_reader.h"

#include <catch2/catch.hpp>
#include <string>

using gitvisor::JsonType;
using gitvisor::JsonValue;
using gitvisor::parse_json;

namespace {

JsonValue parse_ok(std::string_view text) {
    auto parsed = parse_json(text);
    INFO(parsed.error());
    REQUIRE(parsed);
    return *parsed;
}

std::string parse_error(std::string_view text) {
    auto parsed = parse_json(text);
    REQUIRE_FALSE(parsed);
    return parsed.error();
}

}  // namespace

TEST_CASE("json reader: scalars") {
    CHECK(parse_ok("null").is_null());
    CHECK(parse_ok(" true ").as_bool());
    CHECK(parse_ok("false").is_bool());
    CHECK_FALSE(parse_ok("false").as_bool());
    CHECK(parse_ok("\"hi\"").as_string() == "hi");
    CHECK(parse_ok("\n\t 42 \r\n").as_integer() == 42);
}

TEST_CASE("json reader: numbers keep exact integers and doubles") {
    const JsonValue big = parse_ok("9223372036854775807");
    CHECK(big.is_integer());
    CHECK(big.as_integer() == INT64_MAX);
    const JsonValue negative = parse_ok("-17");
    CHECK(negative.as_integer() == -17);
    CHECK(negative.as_double() == -17.0);

    const JsonValue fraction = parse_ok("1.5");
    CHECK_FALSE(fraction.is_integer());
    CHECK(fraction.as_double() == 1.5);
    CHECK(parse_ok("2e3").as_double() == 2000.0);
    CHECK_FALSE(parse_ok("2e3").is_integer());
    CHECK(parse_ok("-0.25E-2").as_double() == Approx(-0.0025));

    // Past int64: still a number, as a double.
    const JsonValue huge = parse_ok("18446744073709551616");
    CHECK(huge.is_number());
    CHECK_FALSE(huge.is_integer());
    CHECK(huge.as_double() == Approx(18446744073709551616.0));
}

TEST_CASE("json reader: invalid numbers") {
    CHECK(parse_error("01") == "line 1, column 2: invalid number: leading zero");
    CHECK(parse_error("1.") == "line 1, column 3: invalid number: expected a digit after '.'");
    CHECK(parse_error("1e") == "line 1, column 3: invalid number: expected a digit in the exponent");
    CHECK(parse_error("-") == "line 1, column 2: invalid number");
    CHECK(parse_error("+1") == "line 1, column 1: unexpected character '+', expected a value");
    CHECK(parse_error("1e999") == "line 1, column 1: number out of range");
}

TEST_CASE("json reader: string escapes") {
    CHECK(parse_ok(R"("a\"b\\c\/d\b\f\n\r\t")").as_string() == "a\"b\\c/d\b\f\n\r\t");
    CHECK(parse_ok(R"("\u0041\u00e9\u20ac")").as_string() == "A\xC3\xA9\xE2\x82\xAC");
    // U+1F600 as a surrogate pair.
    CHECK(parse_ok(R"("\ud83d\ude00")").as_string() == "\xF0\x9F\x98\x80");
    CHECK(parse_ok(R"("\u0000x")").as_string() == std::string("\0x", 2));
    // Raw UTF-8 passes through.
    CHECK(parse_ok("\"caf\xC3\xA9\"").as_string() == "caf\xC3\xA9");
}

TEST_CASE("json reader: invalid strings") {
    CHECK(parse_error(R"("\ud83d")") ==
          "line 1, column 2: invalid \\u escape: high surrogate without a low surrogate");
    CHECK(parse_error(R"("\ud83d\u0041")") ==
          "line 1, column 2: invalid \\u escape: high surrogate without a low surrogate");
    CHECK(parse_error(R"("\ude00")") == "line 1, column 2: invalid \\u escape: lone low surrogate");
    CHECK(parse_error(R"("\u12g4")") == "line 1, column 4: invalid \\u escape: expected 4 hex digits");
    CHECK(parse_error(R"("\x")") == "line 1, column 2: invalid escape '\\x'");
    CHECK(parse_error("\"abc") == "line 1, column 5: unterminated string");
    CHECK(parse_error("\"a\nb\"") == "line 1, column 3: control character in string (must be escaped)");
    CHECK(parse_error("\"\xC3(\"") == "line 1, column 2: invalid UTF-8 in string");
    CHECK(parse_error("\"\xED\xA0\x80\"") == "line 1, column 2: invalid UTF-8 in string");
}

TEST_CASE("json reader: arrays and objects") {
    const JsonValue value = parse_ok(R"({"a": [1, "two", [], {}], "b": {"c": null}, "a": 3})");
    REQUIRE(value.is_object());
    CHECK(value.keys() == std::vector<std::string>{"a", "b", "a"});
    // A repeated key: find() gives the last one.
    REQUIRE(value.find("a") != nullptr);
    CHECK(value.find("a")->as_integer() == 3);
    const JsonValue& array = value.items()[0];
    REQUIRE(array.is_array());
    REQUIRE(array.size() == 4);
    CHECK(array.items()[1].as_string() == "two");
    CHECK(array.items()[2].type() == JsonType::Array);
    CHECK(array.items()[3].type() == JsonType::Object);
    CHECK(value.find("b")->find("c")->is_null());
    CHECK(value.find("missing") == nullptr);
    CHECK(array.find("a") == nullptr);
}

TEST_CASE("json reader: structural errors name line and column") {
    CHECK(parse_error("") == "line 1, column 1: unexpected end of input, expected a value");
    CHECK(parse_error("{\n  \"a\" 1}") == "line 2, column 7: expected ':' after object key");
    CHECK(parse_error("{\"a\":1,}") == "line 1, column 8: expected a string as object key");
    CHECK(parse_error("[1 2]") == "line 1, column 4: expected ',' or ']' in array");
    CHECK(parse_error("{\"a\":1 \"b\":2}") == "line 1, column 8: expected ',' or '}' in object");
    CHECK(parse_error("[1,") == "line 1, column 4: unexpected end of input, expected a value");
    CHECK(parse_error("{} x") == "line 1, column 4: unexpected text after the JSON value");
    CHECK(parse_error("tru") == "line 1, column 1: invalid literal");
    CHECK(parse_error("\x01") == "line 1, column 1: unexpected character '\\x01', expected a value");
}

TEST_CASE("json reader: deep nesting is refused, not a crash") {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    CHECK(parse_error(deep) == "line 1, column 201: nesting too deep");
    const std::string fine = std::string(150, '[') + std::string(150, ']');
    CHECK(parse_ok(fine).is_array());
}

TEST_CASE("json reader: accessors are neutral on a type mismatch") {
    const JsonValue number = parse_ok("5");
    CHECK(number.as_string().empty());
    CHECK_FALSE(number.as_bool());
    CHECK(number.items().empty());
    CHECK(parse_ok("\"5\"").as_integer() == 0);
    CHECK(std::string(gitvisor::json_type_name(JsonType::Object)) == "an object");
}

TEST_CASE("json writer: compact and indented forms read back the same") {
    const std::string text =
        R"({"name":"web.service","pid":4242,"big":9007199254740993,"ratio":0.25,"ok":true,"none":null,)"
        R"("list":[1,"two",[],{}],"nested":{"quote":"a \"b\"\n\u00e9"}})";
    const JsonValue value = parse_ok(text);
    CHECK(gitvisor::write_json(value) == text.substr(0, text.find("\\u00e9")) + "\u00e9\"}}");
    const std::string pretty = gitvisor::write_json(value, 2);
    CHECK(pretty.find("{\n  \"name\": \"web.service\",\n  \"pid\": 4242,") == 0);
    CHECK(pretty.find("\"list\": [\n    1,\n    \"two\",\n    [],\n    {}\n  ]") != std::string::npos);
    const JsonValue again = parse_ok(pretty);
    CHECK(gitvisor::write_json(again) == gitvisor::write_json(value));
    CHECK(again.find("big")->as_integer() == 9007199254740993);
    CHECK(again.find("ratio")->as_double() == 0.25);
}
