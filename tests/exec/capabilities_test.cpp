// CapabilityBoundingSet= and AmbientCapabilities=: names and systemd's merging as pure functions, then
// what a unit sees of its capabilities (root only: dropping and raising capabilities needs them).

#include "exec/capabilities.h"

#include <catch2/catch.hpp>
#include <string>

#include "exec/spec.h"
#include "exec_test_support.h"

using exec_test::ExecProcess;
using exec_test::list;
using exec_test::Mode;
using exec_test::shell;
using exec_test::SpecBuilder;
using exec_test::TempDir;
using gitvisor::exec::kAllCapabilities;
using gitvisor::exec::merge_capability_assignments;

namespace {

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }
constexpr int kChown = 0;
constexpr int kKill = 5;
constexpr int kNetBindService = 10;
constexpr int kNetAdmin = 12;

uint64_t merged(const std::vector<std::string>& assignments, uint64_t initial) {
    auto set = merge_capability_assignments(assignments, initial);
    INFO(set.error());
    REQUIRE(set);
    return *set;
}

// A port below 1024 bound on 127.0.0.1 by the unit's python3 (one in use is skipped): "bound" or "denied".
const std::string kBindProbe =
    "/usr/bin/python3 -c '\n"
    "import errno, socket\n"
    "for port in (80, 81, 82, 83, 443, 444, 555, 666, 777, 888, 999):\n"
    "    s = socket.socket()\n"
    "    try:\n"
    "        s.bind((\"127.0.0.1\", port)); print(\"bound\"); break\n"
    "    except PermissionError:\n"
    "        print(\"denied\"); break\n"
    "    except OSError as e:\n"
    "        if e.errno != errno.EADDRINUSE: raise\n"
    "'";

}  // namespace

TEST_CASE("capabilities: names are the kernel's numbers") {
    CHECK(gitvisor::exec::capability_from_name("CAP_CHOWN") == 0);
    CHECK(gitvisor::exec::capability_from_name("CAP_NET_BIND_SERVICE") == 10);
    CHECK(gitvisor::exec::capability_from_name("CAP_CHECKPOINT_RESTORE") == 40);
    CHECK(gitvisor::exec::capability_from_name("cap_chown") == -1);
    CHECK(gitvisor::exec::capability_name(21) == "CAP_SYS_ADMIN");
    CHECK(gitvisor::exec::capability_names(bit(kChown) | bit(kNetAdmin)) == "CAP_CHOWN CAP_NET_ADMIN");
}

TEST_CASE("capabilities: assignments merge as in systemd") {
    // The first assignment replaces the initial set; later ones add.
    CHECK(merged({"CAP_CHOWN CAP_KILL"}, kAllCapabilities) == (bit(kChown) | bit(kKill)));
    CHECK(merged({"CAP_CHOWN", "CAP_KILL"}, kAllCapabilities) == (bit(kChown) | bit(kKill)));
    // '~': all but these; a later '~' takes more away.
    CHECK(merged({"~CAP_CHOWN"}, kAllCapabilities) == ~bit(kChown));
    CHECK(merged({"~CAP_CHOWN", "~CAP_KILL"}, kAllCapabilities) == ~(bit(kChown) | bit(kKill)));
    CHECK(merged({"CAP_CHOWN CAP_KILL", "~CAP_KILL"}, kAllCapabilities) == bit(kChown));
    // An empty assignment empties the set; so does '~' alone... for the complement: everything.
    CHECK(merged({"CAP_CHOWN", ""}, kAllCapabilities) == 0);
    CHECK(merged({"CAP_CHOWN", "~"}, kAllCapabilities) == kAllCapabilities);
    CHECK(merged({"CAP_NET_ADMIN"}, 0) == bit(kNetAdmin));
    CHECK(merged({}, 0) == 0);
    auto bad = merge_capability_assignments({"CAP_CHOWN CAP_BOGUS"}, 0);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == "unknown capability 'CAP_BOGUS'");
}

TEST_CASE("capabilities: the spec carries the merged sets") {
    auto spec = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("capability_bounding_set":["CAP_CHOWN","CAP_NET_BIND_SERVICE"],"ambient_capabilities":["CAP_NET_BIND_SERVICE"]})");
    REQUIRE(spec);
    CHECK(spec->capability_bounding_set == (bit(kChown) | bit(kNetBindService)));
    CHECK(spec->ambient_capabilities == bit(kNetBindService));
    auto defaults = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}]})");
    REQUIRE(defaults);
    CHECK_FALSE(defaults->capability_bounding_set);
    CHECK(defaults->ambient_capabilities == 0);
    auto bad = gitvisor::exec::parse_spec(
        R"({"version":1,"unit":"t.service","status_file":"/s","control_socket":"/c","exec_start":[{"path":"/x"}],)"
        R"("ambient_capabilities":["CAP_NOPE"]})");
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == "field 'ambient_capabilities': unknown capability 'CAP_NOPE'");
}

TEST_CASE("capabilities: CapabilityBoundingSet= leaves a root unit only those") {
    EXEC_TEST_SKIP_UNLESS_ROOT("dropping capabilities");
    const Mode mode = GENERATE(Mode::Plain, Mode::Namespace);
    INFO(exec_test::mode_name(mode));
    TempDir dir;
    SpecBuilder spec;
    spec.set("type", "\"oneshot\"")
        .set("exec_start", list({shell("grep -E '^Cap(Bnd|Eff|Prm):' /proc/self/status")}))
        .set("capability_bounding_set", R"(["CAP_NET_BIND_SERVICE"])");
    ExecProcess exec(dir, spec, mode);
    REQUIRE(exec.wait_exit() == 0);
    const std::string log = exec.log();
    INFO(log);
    CHECK(log.find("CapBnd:\t0000000000000400") != std::string::npos);
    CHECK(log.find("CapEff:\t0000000000000400") != std::string::npos);
    CHECK(log.find("CapPrm:\t0000000000000400") != std::string::npos);
}

TEST_CASE("capabilities: AmbientCapabilities= lets User=nobody bind a port below 1024") {
    EXEC_TEST_SKIP_UNLESS_ROOT("User= and capabilities");
    if (exec_test::read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start") != "1024\n") {
        WARN("skipped: ip_unprivileged_port_start is not 1024 here");
        return;
    }
    TempDir dir;
    SECTION("with CAP_NET_BIND_SERVICE") {
        SpecBuilder spec;
        spec.set("type", "\"oneshot\"")
            .set("exec_start",
                 list({shell("grep -E '^Cap(Amb|Eff):' /proc/self/status; id -u; " + kBindProbe)}))
            .set("user", "\"nobody\"")
            .set("ambient_capabilities", R"(["CAP_NET_BIND_SERVICE"])");
        ExecProcess exec(dir, spec, Mode::Namespace);
        REQUIRE(exec.wait_exit() == 0);
        const std::string log = exec.log();
        INFO(log);
        CHECK(log.find("CapAmb:\t0000000000000400") != std::string::npos);
        CHECK(log.find("CapEff:\t0000000000000400") != std::string::npos);
        CHECK(log.find(" 65534\n") != std::string::npos);
        CHECK(log.find(" bound\n") != std::string::npos);
    }
    SECTION("without") {
        SpecBuilder spec;
        spec.set("type", "\"oneshot\"")
            .set("exec_start", list({shell(kBindProbe)}))
            .set("user", "\"nobody\"");
        ExecProcess exec(dir, spec, Mode::Namespace);
        REQUIRE(exec.wait_exit() == 0);
        const std::string log = exec.log();
        INFO(log);
        CHECK(log.find(" denied\n") != std::string::npos);
    }
    SECTION("outside the bounding set it is not raised") {
        SpecBuilder spec;
        spec.set("type", "\"oneshot\"")
            .set("exec_start", list({shell("grep -E '^CapAmb:' /proc/self/status; " + kBindProbe)}))
            .set("user", "\"nobody\"")
            .set("ambient_capabilities", R"(["CAP_NET_BIND_SERVICE"])")
            .set("capability_bounding_set", R"(["CAP_CHOWN"])");
        ExecProcess exec(dir, spec, Mode::Namespace);
        REQUIRE(exec.wait_exit() == 0);
        const std::string log = exec.log();
        INFO(log);
        CHECK(log.find("CapAmb:\t0000000000000000") != std::string::npos);
        CHECK(log.find(" denied\n") != std::string::npos);
    }
}
