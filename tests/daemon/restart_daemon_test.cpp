// What a restart by gitvisord (`gitvisor restart`) hands to gitvisor-exec: RuntimeDirectoryPreserve=restart
// keeps the runtime directory across it, and the default removes it.

#include <catch2/catch.hpp>
#include <filesystem>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

TEST_CASE("gitvisor restart keeps the RuntimeDirectory= of a unit with RuntimeDirectoryPreserve=restart",
          "[daemon][restart]") {
    if (geteuid() != 0) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    const std::string name = "gitvisor-test-preserve-" + std::to_string(getpid());
    const std::string kept = "/run/" + name + "-kept";
    const std::string fresh = "/run/" + name + "-fresh";
    struct Cleanup {
        std::string a, b;
        ~Cleanup() {
            std::filesystem::remove_all(a);
            std::filesystem::remove_all(b);
        }
    } cleanup{kept, fresh};
    // Each start adds a line to a file in its runtime directory.
    const std::string exec = "ExecStart=/bin/sh -c 'echo start >> \"$RUNTIME_DIRECTORY/starts\"; exec sleep 1000'\n";
    f.write_unit("kept.service", "[Service]\nRuntimeDirectory=" + name + "-kept\nRuntimeDirectoryPreserve=restart\n" + exec);
    f.write_unit("fresh.service", "[Service]\nRuntimeDirectory=" + name + "-fresh\n" + exec);
    f.commit("two units with runtime directories");
    f.start_daemon();
    REQUIRE(eventually([&] { return f.state("kept") == "active/running" && f.state("fresh") == "active/running"; }, 20));
    REQUIRE(eventually([&] { return slurp(kept + "/starts") == "start\n" && slurp(fresh + "/starts") == "start\n"; }, 10));
    CHECK(f.cli("restart kept fresh").exit_code == 0);
    REQUIRE(eventually([&] { return f.state("kept") == "active/running" && f.state("fresh") == "active/running"; }, 20));
    CHECK(eventually([&] { return slurp(kept + "/starts") == "start\nstart\n"; }, 10));
    CHECK(eventually([&] { return slurp(fresh + "/starts") == "start\n"; }, 10));
    // A plain stop removes both.
    CHECK(f.cli("stop kept fresh").exit_code == 0);
    CHECK_FALSE(std::filesystem::exists(kept));
    CHECK_FALSE(std::filesystem::exists(fresh));
}
