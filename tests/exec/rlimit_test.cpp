// Limit*= beyond what the host allows: as systemd, a hard limit that cannot be raised is kept and the request
// lowered to it, instead of failing the start.

#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <string>

#include "exec_test_support.h"

using exec_test::ExecProcess;
using exec_test::list;
using exec_test::shell;
using exec_test::SpecBuilder;
using exec_test::TempDir;

TEST_CASE("rlimit: a request above a hard limit that cannot be raised gets the hard limit") {
    rlimit current{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &current) == 0);
    // Ask for more than the hard limit. Where the hard limit can be raised (CAP_SYS_RESOURCE), the request
    // is granted as it is; where it cannot, it is lowered to the hard limit. Either way the unit starts.
    const rlim_t wanted = current.rlim_max == RLIM_INFINITY ? current.rlim_max : current.rlim_max + 1000;
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("exec_start", list({shell("echo soft=$(ulimit -Sn) hard=$(ulimit -Hn)")}))
        .set("rlimits", "{\"NOFILE\":[" + std::to_string(wanted) + "," + std::to_string(wanted) + "]}");
    ExecProcess exec(dir, spec);
    REQUIRE(exec.wait_exit() == 0);
    const std::string log = exec.log();
    INFO(log);
    const bool granted = log.find("soft=" + std::to_string(wanted) + " hard=" + std::to_string(wanted)) != std::string::npos;
    const bool lowered = log.find("soft=" + std::to_string(current.rlim_max) + " hard=" + std::to_string(current.rlim_max)) !=
                         std::string::npos;
    CHECK((granted || lowered));
}
