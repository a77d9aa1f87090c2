// The pure cgroup v2 layout against a fake tree: detection, controllers enabled, files written per limit.

#include <catch2/catch.hpp>

#include "daemon/cgroup/cgroup.h"
#include "fake_tree.h"

using namespace gitvisor::daemon;
using namespace gitvisor::daemon::testing;

namespace {

// A stock host: gitvisord in its own service cgroup, memory, pids and cpu offered there.
struct FakeV2 {
    TempTree tree;
    std::string root = tree / "cgroup";
    std::string own = root + "/system.slice/gitvisord.service";
    std::string parent = own + "/gitvisor";
    std::string proc = tree / "proc-self-cgroup";

    explicit FakeV2(const std::string& offered = "cpu io memory pids") {
        put_file(root + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        put_files(
            own,
            {{"cgroup.controllers", offered + "\n"}, {"cgroup.subtree_control", ""}, {"cgroup.procs", ""}});
        put_files(parent, {{"cgroup.subtree_control", ""}, {"cgroup.procs", ""}});
        put_file(proc, "0::/system.slice/gitvisord.service\n");
    }
    CgroupManager detect() const { return CgroupManager::detect(root, proc, "gitvisor"); }
};

}  // namespace

TEST_CASE("v2: detected from cgroup.controllers, units nest under gitvisord's own cgroup") {
    FakeV2 fake;
    CgroupManager m = fake.detect();
    REQUIRE(m.layout() == CgroupLayout::Unified);
    CHECK(m.describe() == "cgroup v2, units under " + fake.parent + " (memory pids cpu)");

    UnitCgroup web = m.locate("web.service");
    CHECK(web.display_path() == "/system.slice/gitvisord.service/gitvisor/web.service");
    CHECK(web.dirs() == std::vector<std::string>{fake.parent + "/web.service"});
    CHECK(web.procs_files() == std::vector<std::string>{fake.parent + "/web.service/cgroup.procs"});
}

TEST_CASE("v2: memory, pids and cpu are enabled for the parent and for its children") {
    FakeV2 fake;
    fake.detect();
    CHECK(file_text(fake.own + "/cgroup.subtree_control") == "+memory +pids +cpu");
    CHECK(file_text(fake.parent + "/cgroup.subtree_control") == "+memory +pids +cpu");
}

TEST_CASE("v2: only the controllers the kernel offers are enabled") {
    FakeV2 fake("cpu pids");
    CgroupManager m = fake.detect();
    CHECK(file_text(fake.own + "/cgroup.subtree_control") == "+pids +cpu");
    CHECK(m.describe() == "cgroup v2, units under " + fake.parent + " (pids cpu)");

    // A memory limit then fails, naming what is missing, rather than being ignored.
    put_files(fake.parent + "/web.service",
              {{"cgroup.procs", ""}, {"pids.max", "max\n"}, {"cpu.max", "max 100000\n"}});
    CgroupLimits limits;
    limits.memory_max = 1 << 20;
    auto made = m.create("web.service", limits);
    REQUIRE_FALSE(made);
    CHECK(
        made.error() ==
        "cannot set MemoryMax= for cgroup '/system.slice/gitvisord.service/gitvisor/web.service': the memory "
        "controller is not available (no memory.limit_in_bytes or memory.max)");
}

TEST_CASE("v2: gitvisord in the root cgroup puts the parent at the root") {
    FakeV2 fake;
    put_file(fake.proc, "0::/\n");
    put_files(fake.root, {{"cgroup.subtree_control", ""}});
    put_files(fake.root + "/gitvisor", {{"cgroup.subtree_control", ""}});
    put_file(fake.root + "/cgroup.controllers", "cpu memory pids\n");
    CgroupManager m = fake.detect();
    REQUIRE(m.layout() == CgroupLayout::Unified);
    CHECK(m.locate("a.service").display_path() == "/gitvisor/a.service");
    CHECK(m.locate("a.service").dirs() == std::vector<std::string>{fake.root + "/gitvisor/a.service"});
}

TEST_CASE("v2: each limit is written to its file, and an unset limit to its default") {
    FakeV2 fake;
    CgroupManager m = fake.detect();
    const std::string unit = fake.parent + "/web.service";
    put_files(unit, v2_unit_files());

    CgroupLimits limits;
    limits.memory_max = 64ull << 20;
    limits.memory_high = 48ull << 20;
    limits.cpu_quota_usec = 200000;  // CPUQuota=20%
    limits.cpu_weight = 50;
    limits.tasks_max = 5;
    auto made = m.create("web.service", limits);
    REQUIRE(made);
    CHECK(made->dirs() == std::vector<std::string>{unit});
    CHECK(file_text(unit + "/memory.max") == "67108864");
    CHECK(file_text(unit + "/memory.high") == "50331648");
    CHECK(file_text(unit + "/cpu.max") == "20000 100000");
    CHECK(file_text(unit + "/cpu.weight") == "50");
    CHECK(file_text(unit + "/pids.max") == "5");

    // Created again with the limits removed from the unit: each is lifted.
    REQUIRE(m.create("web.service", CgroupLimits{}));
    CHECK(file_text(unit + "/memory.max") == "max");
    CHECK(file_text(unit + "/memory.high") == "max");
    CHECK(file_text(unit + "/cpu.max") == "max 100000");
    CHECK(file_text(unit + "/cpu.weight") == "100");
    CHECK(file_text(unit + "/pids.max") == "max");
}

TEST_CASE("v2: a CPU quota below the kernel's minimum is raised to it") {
    FakeV2 fake;
    CgroupManager m = fake.detect();
    put_files(fake.parent + "/tiny.service", v2_unit_files());
    CgroupLimits limits;
    limits.cpu_quota_usec = 5000;  // CPUQuota=0.5%: 500 µs per 100 ms
    REQUIRE(m.create("tiny.service", limits));
    CHECK(file_text(fake.parent + "/tiny.service/cpu.max") == "1000 100000");
}

TEST_CASE("v2: a write error names the file and the errno text") {
    FakeV2 fake;
    CgroupManager m = fake.detect();
    const std::string unit = fake.parent + "/web.service";
    put_files(unit + "/memory.max", {});  // a directory where a file should be
    CgroupLimits limits;
    limits.memory_max = 1 << 20;
    auto made = m.create("web.service", limits);
    REQUIRE_FALSE(made);
    CHECK(made.error() == "cannot write '" + unit + "/memory.max': Is a directory (value '1048576')");
}

TEST_CASE("v2: create makes the unit directory and refuses names that are not one") {
    FakeV2 fake;
    CgroupManager m = fake.detect();
    REQUIRE(m.create("plain.service", CgroupLimits{}));
    CHECK(std::filesystem::is_directory(fake.parent + "/plain.service"));

    for (std::string bad : {"", ".", "..", "a/b.service"}) {
        auto made = m.create(bad, CgroupLimits{});
        REQUIRE_FALSE(made);
        CHECK(made.error() == "cannot create cgroup for '" + bad + "': not a valid cgroup name");
    }
}

TEST_CASE("v2: no cgroup2 line in /proc/self/cgroup means no cgroups") {
    FakeV2 fake;
    put_file(fake.proc, "4:memory:/x\n");
    CgroupManager m = fake.detect();
    CHECK(m.layout() == CgroupLayout::None);
    CHECK(m.describe() == "none (no cgroup2 entry (\"0::/path\") for gitvisord)");
    CHECK(m.locate("a.service").dirs().empty());
    auto made = m.create("a.service", CgroupLimits{});
    REQUIRE_FALSE(made);
    CHECK(made.error() ==
          "cannot create cgroup for 'a.service': cgroups are not in use (no cgroup2 entry "
          "(\"0::/path\") for gitvisord)");
}

TEST_CASE("v2: gitvisord's cgroup missing from the tree means no cgroups") {
    FakeV2 fake;
    put_file(fake.proc, "0::/elsewhere.service\n");
    CgroupManager m = fake.detect();
    CHECK(m.layout() == CgroupLayout::None);
    CHECK(m.describe() == "none (cannot find gitvisord's cgroup '" + fake.root + "/elsewhere.service')");
}
