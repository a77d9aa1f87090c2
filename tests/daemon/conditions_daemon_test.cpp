// Condition*= and Assert*= at each start: a condition that does not hold skips the unit (the deploy is
// still applied), an assert that fails fails the start (and the deploy), both say why.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

TEST_CASE("a start is skipped while a Condition*= does not hold and fails while an Assert*= does not",
          "[daemon][conditions]") {
    if (geteuid() != 0) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    const std::string flag = (f.dir.path() / "enabled").string();  // the file the units' conditions look for
    f.write_unit("plain.service", "[Service]\nExecStart=/bin/sleep 1000\n");
    f.write_unit("optional.service", "[Unit]\nConditionPathExists=" + flag +
                                         "\nConditionCPUs=>=1\n[Service]\nExecStart=/bin/sleep 1000\n");
    f.commit("a unit that runs only where it is enabled");
    f.start_daemon();
    REQUIRE(eventually([&] { return f.state("plain") == "active/running"; }, 20));
    REQUIRE(eventually([&] { return f.cli("--json history -n 1").out.find("\"applied\"") != std::string::npos; }, 20));
    CHECK(f.state("optional") == "inactive/dead");
    CHECK(f.status_json("optional")->getValue<std::string>("result") == "condition");
    CHECK(f.main_pid("optional") == 0);
    const CommandResult why = f.cli("why optional");
    INFO(why.out);
    CHECK(why.out.find("its start was skipped at ") != std::string::npos);
    CHECK(why.out.find("ConditionPathExists=" + flag + " was not met") != std::string::npos);
    CHECK(f.cli("events -n 50").out.find("start skipped: ConditionPathExists=" + flag) != std::string::npos);

    // Once the condition holds, a start runs it.
    std::ofstream(flag) << "yes\n";
    CHECK(f.cli("start optional").exit_code == 0);
    CHECK(eventually([&] { return f.state("optional") == "active/running"; }, 20));
    CHECK(f.cli("why optional").out.find("skipped") == std::string::npos);

    // An assert that fails fails the start, and so the deploy.
    f.write_unit("strict.service", "[Unit]\nAssertPathIsDirectory=" + flag + "\n[Service]\nExecStart=/bin/sleep 1000\n");
    f.commit("a unit that insists on a directory");
    REQUIRE(eventually([&] {
        const std::string last = f.cli("--json history -n 1").out;
        return last.find("a unit that insists") != std::string::npos && last.find("in-progress") == std::string::npos;
    }, 30));
    const std::string history = f.cli("history -n 1").out;
    INFO(history);
    CHECK(history.find("failed") != std::string::npos);
    CHECK(history.find("AssertPathIsDirectory=" + flag + " failed") != std::string::npos);
    CHECK(f.state("strict") == "inactive/dead");
    CHECK(f.status_json("strict")->getValue<std::string>("result") == "assert");
    CHECK(f.state("optional") == "active/running");  // untouched by the failed deploy
    CHECK(f.cli("start strict").exit_code != 0);
}
