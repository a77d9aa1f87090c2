#pragma once
// Enums with string tables both ways (STYLE.md §11): a table is a std::array of {value, name} pairs.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace gitvisor {

template <class E, size_t N>
const char* name_of(E value, const std::array<std::pair<E, const char*>, N>& table) {
    for (const auto& [e, name] : table) {
        if (e == value) return name;
    }
    return "?";
}

template <class E, size_t N>
std::optional<E> value_of(std::string_view text, const std::array<std::pair<E, const char*>, N>& table) {
    for (const auto& [e, name] : table) {
        if (text == name) return e;
    }
    return std::nullopt;
}

}  // namespace gitvisor
