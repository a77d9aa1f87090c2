#pragma once
// A small JSON reader for programs that must not link a JSON library (gitvisor-exec reads its spec and
// control requests with it). It builds a tree of JsonValue; errors come back as a Result carrying
// "line L, column C: message", and no exception leaves parse_json.
//
// Numbers keep their double value and, when written as an integer that fits, the exact int64 too, so
// large values such as rlimits survive. Object members keep their order; a repeated key is kept twice
// and find() returns the last one, as most readers do.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gitvisor {

enum class JsonType { Null, Bool, Number, String, Array, Object };

// "null", "a boolean", "a number", "a string", "an array", "an object": for error messages.
const char* json_type_name(JsonType type);

class JsonValue {
public:
    JsonValue() = default;  // null

    static JsonValue make_bool(bool value);
    static JsonValue make_number(double value);
    static JsonValue make_integer(int64_t value);
    static JsonValue make_string(std::string value);
    static JsonValue make_array();
    static JsonValue make_object();

    JsonType type() const { return m_type; }
    bool is_null() const { return m_type == JsonType::Null; }
    bool is_bool() const { return m_type == JsonType::Bool; }
    bool is_number() const { return m_type == JsonType::Number; }
    bool is_string() const { return m_type == JsonType::String; }
    bool is_array() const { return m_type == JsonType::Array; }
    bool is_object() const { return m_type == JsonType::Object; }

    // Accessors return a neutral value (false, 0, "", empty) when the type does not match.
    bool as_bool() const { return m_type == JsonType::Bool && m_bool; }
    double as_double() const { return m_type == JsonType::Number ? m_number : 0.0; }
    // True for a number written without fraction or exponent that fits in int64.
    bool is_integer() const { return m_type == JsonType::Number && m_is_integer; }
    int64_t as_integer() const { return is_integer() ? m_integer : 0; }
    const std::string& as_string() const;

    // Array elements, or an object's values (in the order of keys()).
    const std::vector<JsonValue>& items() const { return m_items; }
    const std::vector<std::string>& keys() const { return m_keys; }
    size_t size() const { return m_items.size(); }
    // An object's member by name (the last one if repeated), or nullptr.
    const JsonValue* find(std::string_view key) const;

    // Building (the parser uses these; tests may too).
    void push_back(JsonValue value) { m_items.push_back(std::move(value)); }
    void add_member(std::string key, JsonValue value);

private:
    JsonType m_type = JsonType::Null;
    bool m_bool = false;
    bool m_is_integer = false;
    double m_number = 0.0;
    int64_t m_integer = 0;
    std::string m_string;
    std::vector<std::string> m_keys;
    std::vector<JsonValue> m_items;
};

// Parses one JSON text (RFC 8259): surrounding whitespace allowed, nothing else after the value.
// Strings must be valid UTF-8; \u escapes are decoded, surrogate pairs joined, a lone surrogate refused.
// Nesting deeper than 200 levels is refused.
Result<JsonValue> parse_json(std::string_view text);

// The value as JSON text: compact when `indent` is 0, else one member or element per line, indented by
// `indent` spaces per level ("key": value). Integers are written exactly, other numbers in the shortest
// form that reads back the same (non-finite ones as null).
std::string write_json(const JsonValue& value, int indent = 0);

}  // namespace gitvisor
