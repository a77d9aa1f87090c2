#include "unitfile/conditions.h"

#include <catch2/catch.hpp>
#include <string>

#include "test_support.h"

using gitvisor::unitfile::Condition;
using gitvisor::unitfile::conditions_hold;
using gitvisor::unitfile::host_condition_holds;
using gitvisor::unitfile::testing::load;

namespace {

const std::string kMachineId = "0123456789abcdef0123456789abcdef";

bool runs_on(const std::string& conditions, const std::string& host) {
    const auto loaded = load("[Unit]\n" + conditions + "[Service]\nExecStart=/bin/true\n", "web.service");
    REQUIRE(loaded.ok());
    return host_condition_holds(loaded.unit, host, kMachineId);
}

}  // namespace

TEST_CASE("conditions: plain entries must all hold, of triggering ones at least one") {
    const auto equals_a = [](const std::string& v) { return v == "a"; };
    CHECK(conditions_hold({}, equals_a));
    CHECK(conditions_hold({{false, false, "a"}}, equals_a));
    CHECK_FALSE(conditions_hold({{false, false, "a"}, {false, false, "b"}}, equals_a));
    CHECK(conditions_hold({{false, true, "b"}}, equals_a));
    CHECK(conditions_hold({{true, false, "b"}, {true, false, "a"}}, equals_a));
    CHECK_FALSE(conditions_hold({{true, false, "b"}, {true, false, "c"}}, equals_a));
    CHECK_FALSE(conditions_hold({{true, false, "a"}, {false, false, "b"}}, equals_a));
}

TEST_CASE("conditions: ConditionHost= matches the host name as a glob, or the machine ID") {
    CHECK(runs_on("", "anything"));
    CHECK(runs_on("ConditionHost=web-1\n", "web-1"));
    CHECK(runs_on("ConditionHost=WEB-1\n", "web-1"));
    CHECK_FALSE(runs_on("ConditionHost=web-1\n", "web-2"));
    CHECK(runs_on("ConditionHost=web-*\n", "web-2"));
    CHECK_FALSE(runs_on("ConditionHost=!web-*\n", "web-2"));
    CHECK(runs_on("ConditionHost=|db-1\nConditionHost=|web-?\n", "web-7"));
    CHECK_FALSE(runs_on("ConditionHost=|db-1\nConditionHost=|web-?\n", "cache-1"));
    CHECK(runs_on("ConditionHost=01234567-89ab-cdef-0123-456789ABCDEF\n", "web-1"));
    CHECK_FALSE(runs_on("ConditionHost=fedcba9876543210fedcba9876543210\n", "web-1"));
    // An empty assignment resets the list.
    CHECK(runs_on("ConditionHost=db-1\nConditionHost=\n", "web-1"));
}
