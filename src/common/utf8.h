#pragma once
// UTF-8 checks and encoding shared by the JSON code and the unit-file word parser.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gitvisor {

// A Unicode scalar value: at most U+10FFFF and not a surrogate.
bool is_valid_code_point(uint32_t cp);

// Length of the well-formed UTF-8 sequence starting at text[pos] (1 for an ASCII byte, NUL included), or 0
// when it is not one: a stray continuation byte, a truncated or overlong form, a surrogate, past U+10FFFF.
size_t utf8_sequence_length(std::string_view text, size_t pos);
// The same, also giving the code point.
size_t decode_utf8(std::string_view text, size_t pos, uint32_t& cp);

bool is_valid_utf8(std::string_view text);

// Appends the UTF-8 encoding of a valid code point.
void append_utf8(std::string& out, uint32_t cp);

}  // namespace gitvisor
