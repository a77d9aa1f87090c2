#pragma once
// Minimal JSON text output for programs that must not link a JSON library (gitvisor-exec, the unit-file
// library). Values are appended to a string; the caller provides the structure.

#include <cstdint>
#include <string>
#include <string_view>

namespace gitvisor {

// `text` as a JSON string literal, quotes included. Invalid UTF-8 bytes become U+FFFD.
std::string json_quote(std::string_view text);

}  // namespace gitvisor
