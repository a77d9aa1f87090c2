#include "common/json_reader.h"

#include "common/json.h"
#include "common/utf8.h"

#include <charconv>
#include <cmath>
#include <exception>
#include <new>
#include <system_error>

namespace gitvisor {
namespace {

constexpr int kMaxDepth = 200;

// Thrown only inside this file and caught in parse_json: it carries the offset of the error.
struct ParseError {
    size_t offset;
    std::string message;
};

class Parser {
public:
    explicit Parser(std::string_view text) : m_text(text) {}

    JsonValue parse_document() {
        skip_whitespace();
        JsonValue value = parse_value(0);
        skip_whitespace();
        if (m_pos != m_text.size()) fail("unexpected text after the JSON value");
        return value;
    }

private:
    [[noreturn]] void fail(std::string message) const { throw ParseError{m_pos, std::move(message)}; }

    bool at_end() const { return m_pos >= m_text.size(); }
    char peek() const { return m_text[m_pos]; }

    void skip_whitespace() {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++m_pos;
    }

    void expect_literal(std::string_view literal) {
        if (m_text.substr(m_pos, literal.size()) != literal) fail("invalid literal");
        m_pos += literal.size();
    }

    JsonValue parse_value(int depth) {
        if (at_end()) fail("unexpected end of input, expected a value");
        switch (peek()) {
            case '{':
                return parse_object(depth + 1);
            case '[':
                return parse_array(depth + 1);
            case '"':
                return JsonValue::make_string(parse_string());
            case 't':
                expect_literal("true");
                return JsonValue::make_bool(true);
            case 'f':
                expect_literal("false");
                return JsonValue::make_bool(false);
            case 'n':
                expect_literal("null");
                return JsonValue();
            default:
                break;
        }
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return parse_number();
        fail(std::string("unexpected character '") + printable(peek()) + "', expected a value");
    }

    static std::string printable(char c) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F) return std::string(1, c);
        static constexpr char kHex[] = "0123456789abcdef";
        return std::string("\\x") + kHex[u >> 4] + kHex[u & 0xF];
    }

    JsonValue parse_object(int depth) {
        if (depth > kMaxDepth) fail("nesting too deep");
        ++m_pos;  // '{'
        JsonValue object = JsonValue::make_object();
        skip_whitespace();
        if (!at_end() && peek() == '}') {
            ++m_pos;
            return object;
        }
        while (true) {
            skip_whitespace();
            if (at_end() || peek() != '"') fail("expected a string as object key");
            std::string key = parse_string();
            skip_whitespace();
            if (at_end() || peek() != ':') fail("expected ':' after object key");
            ++m_pos;
            skip_whitespace();
            object.add_member(std::move(key), parse_value(depth));
            skip_whitespace();
            if (at_end()) fail("unexpected end of input in object");
            if (peek() == ',') {
                ++m_pos;
                continue;
            }
            if (peek() == '}') {
                ++m_pos;
                return object;
            }
            fail("expected ',' or '}' in object");
        }
    }

    JsonValue parse_array(int depth) {
        if (depth > kMaxDepth) fail("nesting too deep");
        ++m_pos;  // '['
        JsonValue array = JsonValue::make_array();
        skip_whitespace();
        if (!at_end() && peek() == ']') {
            ++m_pos;
            return array;
        }
        while (true) {
            skip_whitespace();
            array.push_back(parse_value(depth));
            skip_whitespace();
            if (at_end()) fail("unexpected end of input in array");
            if (peek() == ',') {
                ++m_pos;
                continue;
            }
            if (peek() == ']') {
                ++m_pos;
                return array;
            }
            fail("expected ',' or ']' in array");
        }
    }

    JsonValue parse_number() {
        const size_t start = m_pos;
        bool integer = true;
        if (peek() == '-') ++m_pos;
        if (at_end() || !is_digit(peek())) fail("invalid number");
        if (peek() == '0') {
            ++m_pos;
            if (!at_end() && is_digit(peek())) fail("invalid number: leading zero");
        } else {
            skip_digits();
        }
        if (!at_end() && peek() == '.') {
            integer = false;
            ++m_pos;
            if (at_end() || !is_digit(peek())) fail("invalid number: expected a digit after '.'");
            skip_digits();
        }
        if (!at_end() && (peek() == 'e' || peek() == 'E')) {
            integer = false;
            ++m_pos;
            if (!at_end() && (peek() == '+' || peek() == '-')) ++m_pos;
            if (at_end() || !is_digit(peek())) fail("invalid number: expected a digit in the exponent");
            skip_digits();
        }
        const char* first = m_text.data() + start;
        const char* last = m_text.data() + m_pos;
        if (integer) {
            int64_t value = 0;
            const auto [ptr, ec] = std::from_chars(first, last, value);
            if (ec == std::errc() && ptr == last) return JsonValue::make_integer(value);
        }
        double value = 0.0;
        const auto [ptr, ec] = std::from_chars(first, last, value);
        if (ec == std::errc::result_out_of_range) {
            m_pos = start;
            fail("number out of range");
        }
        if (ec != std::errc() || ptr != last) {
            m_pos = start;
            fail("invalid number");
        }
        return JsonValue::make_number(value);
    }

    static bool is_digit(char c) { return c >= '0' && c <= '9'; }
    void skip_digits() {
        while (!at_end() && is_digit(peek())) ++m_pos;
    }

    std::string parse_string() {
        ++m_pos;  // opening quote
        std::string out;
        while (true) {
            if (at_end()) fail("unterminated string");
            const auto c = static_cast<unsigned char>(peek());
            if (c == '"') {
                ++m_pos;
                return out;
            }
            if (c == '\\') {
                parse_escape(out);
                continue;
            }
            if (c < 0x20) fail("control character in string (must be escaped)");
            if (c < 0x80) {
                out.push_back(static_cast<char>(c));
                ++m_pos;
                continue;
            }
            const size_t n = utf8_sequence_length(m_text, m_pos);
            if (n == 0) fail("invalid UTF-8 in string");
            out.append(m_text.substr(m_pos, n));
            m_pos += n;
        }
    }

    void parse_escape(std::string& out) {
        ++m_pos;  // backslash
        if (at_end()) fail("unterminated string");
        const char c = peek();
        ++m_pos;
        switch (c) {
            case '"':
                out.push_back('"');
                return;
            case '\\':
                out.push_back('\\');
                return;
            case '/':
                out.push_back('/');
                return;
            case 'b':
                out.push_back('\b');
                return;
            case 'f':
                out.push_back('\f');
                return;
            case 'n':
                out.push_back('\n');
                return;
            case 'r':
                out.push_back('\r');
                return;
            case 't':
                out.push_back('\t');
                return;
            case 'u':
                break;
            default:
                m_pos -= 2;
                fail(std::string("invalid escape '\\") + printable(c) + "'");
        }
        uint32_t cp = parse_hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            m_pos -= 6;
            fail("invalid \\u escape: lone low surrogate");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (m_text.substr(m_pos, 2) != "\\u") {
                m_pos -= 6;
                fail("invalid \\u escape: high surrogate without a low surrogate");
            }
            m_pos += 2;
            const uint32_t low = parse_hex4();
            if (low < 0xDC00 || low > 0xDFFF) {
                m_pos -= 12;
                fail("invalid \\u escape: high surrogate without a low surrogate");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, cp);
    }

    uint32_t parse_hex4() {
        if (m_pos + 4 > m_text.size()) fail("invalid \\u escape: expected 4 hex digits");
        uint32_t value = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = m_text[m_pos + i];
            int digit = -1;
            if (c >= '0' && c <= '9') digit = c - '0';
            if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
            if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
            if (digit < 0) fail("invalid \\u escape: expected 4 hex digits");
            value = value * 16 + static_cast<uint32_t>(digit);
        }
        m_pos += 4;
        return value;
    }

    std::string_view m_text;
    size_t m_pos = 0;
};

std::string position_of(std::string_view text, size_t offset) {
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

const char* json_type_name(JsonType type) {
    switch (type) {
        case JsonType::Null:
            return "null";
        case JsonType::Bool:
            return "a boolean";
        case JsonType::Number:
            return "a number";
        case JsonType::String:
            return "a string";
        case JsonType::Array:
            return "an array";
        case JsonType::Object:
            return "an object";
    }
    return "?";
}

JsonValue JsonValue::make_bool(bool value) {
    JsonValue v;
    v.m_type = JsonType::Bool;
    v.m_bool = value;
    return v;
}

JsonValue JsonValue::make_number(double value) {
    JsonValue v;
    v.m_type = JsonType::Number;
    v.m_number = value;
    return v;
}

JsonValue JsonValue::make_integer(int64_t value) {
    JsonValue v;
    v.m_type = JsonType::Number;
    v.m_number = static_cast<double>(value);
    v.m_integer = value;
    v.m_is_integer = true;
    return v;
}

JsonValue JsonValue::make_string(std::string value) {
    JsonValue v;
    v.m_type = JsonType::String;
    v.m_string = std::move(value);
    return v;
}

JsonValue JsonValue::make_array() {
    JsonValue v;
    v.m_type = JsonType::Array;
    return v;
}

JsonValue JsonValue::make_object() {
    JsonValue v;
    v.m_type = JsonType::Object;
    return v;
}

const std::string& JsonValue::as_string() const {
    static const std::string kEmpty;
    return m_type == JsonType::String ? m_string : kEmpty;
}

const JsonValue* JsonValue::find(std::string_view key) const {
    if (m_type != JsonType::Object) return nullptr;
    for (size_t i = m_keys.size(); i-- > 0;) {
        if (m_keys[i] == key) return &m_items[i];
    }
    return nullptr;
}

void JsonValue::add_member(std::string key, JsonValue value) {
    m_keys.push_back(std::move(key));
    m_items.push_back(std::move(value));
}

Result<JsonValue> parse_json(std::string_view text) {
    try {
        Parser parser(text);
        return Result<JsonValue>::ok(parser.parse_document());
    } catch (const ParseError& error) {
        return Result<JsonValue>::fail(position_of(text, error.offset) + ": " + error.message);
    } catch (const std::bad_alloc&) {
        return Result<JsonValue>::fail("out of memory");
    } catch (const std::exception& error) {
        return Result<JsonValue>::fail(error.what());
    }
}

namespace {

void write_value(const JsonValue& value, int indent, int depth, std::string& out) {
    const auto newline = [&](int level) {
        if (indent == 0) return;
        out += '\n';
        out.append(static_cast<size_t>(indent * level), ' ');
    };
    switch (value.type()) {
        case JsonType::Null: out += "null"; return;
        case JsonType::Bool: out += value.as_bool() ? "true" : "false"; return;
        case JsonType::String: out += json_quote(value.as_string()); return;
        case JsonType::Number: {
            if (value.is_integer()) {
                out += std::to_string(value.as_integer());
            } else if (!std::isfinite(value.as_double())) {
                out += "null";
            } else {
                char buffer[32];
                const auto r = std::to_chars(buffer, buffer + sizeof buffer, value.as_double());
                out.append(buffer, r.ptr);
            }
            return;
        }
        case JsonType::Array:
        case JsonType::Object: {
            const bool object = value.is_object();
            out += object ? '{' : '[';
            if (value.size() == 0) {
                out += object ? '}' : ']';
                return;
            }
            for (size_t i = 0; i < value.size(); ++i) {
                if (i) out += ',';
                newline(depth + 1);
                if (object) {
                    out += json_quote(value.keys()[i]);
                    out += indent ? ": " : ":";
                }
                write_value(value.items()[i], indent, depth + 1, out);
            }
            newline(depth);
            out += object ? '}' : ']';
            return;
        }
    }
}

}  // namespace

std::string write_json(const JsonValue& value, int indent) {
    std::string out;
    write_value(value, indent, 0, out);
    return out;
}

}  // namespace gitvisor
