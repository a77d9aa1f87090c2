#include "unitfile/conditions.h"

#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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

namespace {

// A scratch folder under /tmp, removed with everything in it.
struct Scratch {
    std::string path;
    Scratch() {
        char name[] = "/tmp/gitvisor-conditions-XXXXXX";
        REQUIRE(mkdtemp(name) != nullptr);
        path = name;
    }
    ~Scratch() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text, std::filesystem::perms perms) const {
        const std::string file = path + "/" + name;
        std::ofstream(file) << text;
        std::filesystem::permissions(file, perms);
        return file;
    }
};

bool holds(const char* kind, const std::string& value) {
    const std::optional<bool> r = gitvisor::unitfile::test_condition(kind, value);
    REQUIRE(r.has_value());
    return *r;
}

std::string unmet(const std::string& unit_section, const char* prefix) {
    const auto loaded = load("[Unit]\n" + unit_section + "[Service]\nExecStart=/bin/true\n", "web.service");
    REQUIRE(loaded.ok());
    return gitvisor::unitfile::unmet_start_condition(loaded.unit, prefix);
}

}  // namespace

TEST_CASE("conditions: the path kinds look at the host's file system") {
    using std::filesystem::perms;
    Scratch s;
    const std::string empty = s.write("empty", "", perms::owner_read | perms::owner_write);
    const std::string text = s.write("text", "x\n", perms::owner_read | perms::owner_write);
    const std::string script = s.write("run.sh", "#!/bin/sh\n", perms::owner_all);
    std::filesystem::create_directory(s.path + "/hollow");
    std::filesystem::create_symlink(text, s.path + "/link");
    CHECK(holds("PathExists", text));
    CHECK(holds("PathExists", s.path + "/link"));
    CHECK_FALSE(holds("PathExists", s.path + "/absent"));
    CHECK(holds("PathExistsGlob", s.path + "/te*"));
    CHECK_FALSE(holds("PathExistsGlob", s.path + "/*.conf"));
    CHECK(holds("PathIsDirectory", s.path + "/hollow"));
    CHECK_FALSE(holds("PathIsDirectory", text));
    CHECK(holds("PathIsSymbolicLink", s.path + "/link"));
    CHECK_FALSE(holds("PathIsSymbolicLink", text));
    CHECK(holds("PathIsMountPoint", "/proc"));
    CHECK_FALSE(holds("PathIsMountPoint", s.path + "/hollow"));
    CHECK(holds("PathIsReadWrite", s.path));
    CHECK_FALSE(holds("PathIsReadWrite", s.path + "/absent"));
    CHECK(holds("DirectoryNotEmpty", s.path));
    CHECK_FALSE(holds("DirectoryNotEmpty", s.path + "/hollow"));
    CHECK_FALSE(holds("DirectoryNotEmpty", text));
    CHECK(holds("FileNotEmpty", text));
    CHECK_FALSE(holds("FileNotEmpty", empty));
    CHECK_FALSE(holds("FileNotEmpty", s.path + "/hollow"));
    CHECK(holds("FileIsExecutable", script));
    CHECK_FALSE(holds("FileIsExecutable", text));
    CHECK_FALSE(holds("FileIsExecutable", s.path + "/hollow"));
}

TEST_CASE("conditions: user, group, environment, kernel command line, architecture, capability, CPUs, memory") {
    const std::string uid = std::to_string(getuid());
    CHECK(holds("User", uid));
    CHECK_FALSE(holds("User", std::to_string(getuid() + 1)));
    if (const passwd* pw = getpwuid(getuid())) CHECK(holds("User", pw->pw_name));
    CHECK(holds("User", "@system") == (getuid() < 1000));
    CHECK(holds("Group", std::to_string(getgid())));
    CHECK_FALSE(holds("Group", "no-such-group-here"));

    setenv("GITVISOR_CONDITION_TEST", "on", 1);
    CHECK(holds("Environment", "GITVISOR_CONDITION_TEST"));
    CHECK(holds("Environment", "GITVISOR_CONDITION_TEST=on"));
    CHECK_FALSE(holds("Environment", "GITVISOR_CONDITION_TEST=off"));
    unsetenv("GITVISOR_CONDITION_TEST");
    CHECK_FALSE(holds("Environment", "GITVISOR_CONDITION_TEST"));

    std::ifstream cmdline("/proc/cmdline");
    std::string first;
    if (cmdline >> first) {
        CHECK(holds("KernelCommandLine", first));
        if (const size_t eq = first.find('='); eq != std::string::npos) CHECK(holds("KernelCommandLine", first.substr(0, eq)));
    }
    CHECK_FALSE(holds("KernelCommandLine", "gitvisor.no-such-word"));

    CHECK(holds("Architecture", "native"));
    utsname u{};
    uname(&u);
    if (std::string(u.machine) == "x86_64") CHECK(holds("Architecture", "x86-64"));
    CHECK_FALSE(holds("Architecture", "s390"));

    // CAP_CHOWN is in every bounding set short of a deliberately emptied one; no such name is in none.
    CHECK(holds("Capability", "CAP_CHOWN"));
    CHECK_FALSE(holds("Capability", "CAP_NO_SUCH_THING"));

    CHECK(holds("CPUs", ">=1"));
    CHECK_FALSE(holds("CPUs", "<1"));
    CHECK(holds("CPUs", "!=0"));
    CHECK_FALSE(holds("CPUs", "lots"));
    CHECK(holds("Memory", ">=1M"));
    CHECK_FALSE(holds("Memory", "<1K"));
    CHECK(holds("Memory", "> 64K"));
    CHECK_FALSE(holds("Memory", ">=banana"));
    CHECK_FALSE(gitvisor::unitfile::test_condition("Firmware", "uefi").has_value());
}

TEST_CASE("conditions: a start checks every kind together, triggers as one group, asserts apart") {
    CHECK(unmet("", "Condition").empty());
    CHECK(unmet("ConditionPathExists=/proc\nConditionHost=elsewhere\n", "Condition").empty());  // ConditionHost=: the deploy's
    CHECK(unmet("ConditionPathExists=/no/such/path\n", "Condition") == "ConditionPathExists=/no/such/path was not met");
    CHECK(unmet("ConditionPathExists=!/proc\n", "Condition") == "ConditionPathExists=!/proc was not met");
    CHECK(unmet("ConditionPathExists=!/no/such/path\n", "Condition").empty());
    // '|' entries of different kinds form one group: one holding is enough.
    CHECK(unmet("ConditionPathExists=|/no/such/path\nConditionPathIsDirectory=|/proc\n", "Condition").empty());
    CHECK(unmet("ConditionPathExists=|/no/such/path\nConditionFileNotEmpty=|/no/such/file\n", "Condition") ==
          "none of ConditionFileNotEmpty=|/no/such/file, ConditionPathExists=|/no/such/path was met");
    // Asserts are their own list.
    CHECK(unmet("AssertPathExists=/no/such/path\n", "Condition").empty());
    CHECK(unmet("AssertPathExists=/no/such/path\n", "Assert") == "AssertPathExists=/no/such/path failed");
    CHECK(unmet("AssertCPUs=>=1\nConditionPathExists=/no/such/path\n", "Assert").empty());
    // An empty value clears every condition before it.
    CHECK(unmet("ConditionPathExists=/no/such/path\nConditionUser=\n", "Condition").empty());
}
