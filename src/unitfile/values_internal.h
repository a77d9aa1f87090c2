#pragma once
// Private to the values*.cpp files, which together implement values.h: the lexical helpers every parser
// uses, and the two number syntaxes that settings of more than one kind share (systemd's C integers and
// byte counts).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gitvisor::unitfile::detail {

// The characters systemd skips as blanks (its WHITESPACE).
inline constexpr std::string_view kBlanks = " \t\n\r";

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_blank(char c) { return kBlanks.find(c) != std::string_view::npos; }
// Unit and suffix words are ASCII letters, plus the UTF-8 bytes of "µs".
inline bool is_word_byte(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}
inline char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view text);
// The first position at or after `pos` that holds no blank (skip_blanks) or no word byte (skip_word).
size_t skip_blanks(std::string_view text, size_t pos);
size_t skip_word(std::string_view text, size_t pos);
// "'text'", for error messages.
std::string quoted(std::string_view text);
// Reads decimal digits from `pos` into `value`; returns false on overflow (the digits are consumed anyway).
bool read_decimal(std::string_view text, size_t& pos, uint64_t& value);

// ---- C integers (values.cpp) -------------------------------------------------------------------------

struct CNumber {
    bool negative = false;
    uint64_t magnitude = 0;
};

// An integer as systemd's safe_atou()/safe_atoi() read it: strtoul() with base 0 after a "0b"/"0o"
// prefix check. So "0x10" is 16, "010" is octal 8, "0o10" is 8, "0b11" is 3; leading blanks and one
// sign are allowed. Counts, signal numbers, exit codes and the number in a percentage all go through here.
// Errors: "expected a number", "value too large".
Result<CNumber> parse_c_number(std::string_view text);
// safe_atou64(): a C number that is not negative ("-0" passes as 0, as it does in systemd).
Result<uint64_t> parse_c_unsigned(std::string_view text);
// safe_atoi(): a C number that fits an int.
Result<int> parse_c_int(std::string_view text);

// ---- Byte counts (values_size.cpp) -------------------------------------------------------------------

// systemd's parse_size with base 1024: parts "<number>[.<digits>][ ]<suffix>" added up, suffixes falling
// ("1G 512M"); suffixes K M G T P E (and B). No "infinity", no percentages.
Result<uint64_t> parse_bytes(std::string_view text);

}  // namespace gitvisor::unitfile::detail
