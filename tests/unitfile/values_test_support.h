#pragma once
// Shared helpers for the value parser tests (values*_test.cpp): time and size units, and checks that a
// parser accepts or rejects a text.
//
// Expected values come from SYSTEMD-SYNTAX.md §1.13 and §6-§10 and from systemd-analyze 252
// ("systemd-analyze timespan", and "systemd-analyze verify" for which values a unit file accepts).

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "unitfile/values.h"

namespace gitvisor::unitfile::testing {

inline constexpr uint64_t kMsec = 1'000;
inline constexpr uint64_t kSec = 1'000'000;
inline constexpr uint64_t kMin = 60 * kSec;
inline constexpr uint64_t kHour = 60 * kMin;
inline constexpr uint64_t kDay = 24 * kHour;
inline constexpr uint64_t kWeek = 7 * kDay;
inline constexpr uint64_t kMonth = 2'629'800 * kSec;
inline constexpr uint64_t kYear = 31'557'600 * kSec;

inline constexpr uint64_t kKiB = uint64_t{1} << 10;
inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kGiB = uint64_t{1} << 30;
inline constexpr uint64_t kTiB = uint64_t{1} << 40;
inline constexpr uint64_t kPiB = uint64_t{1} << 50;
inline constexpr uint64_t kEiB = uint64_t{1} << 60;

template <class T>
T accepted(const gitvisor::Result<T>& result, std::string_view text) {
    INFO("'" << text << "' was rejected: " << result.error());
    REQUIRE(result.has_value());
    return *result;
}

template <class T>
std::string rejected(const gitvisor::Result<T>& result, std::string_view text) {
    INFO("'" << text << "' was accepted");
    REQUIRE_FALSE(result.has_value());
    return result.error();
}

inline uint64_t span(std::string_view text, uint64_t bare_unit = kSec) {
    return accepted(parse_timespan(text, bare_unit), text);
}

}  // namespace gitvisor::unitfile::testing
