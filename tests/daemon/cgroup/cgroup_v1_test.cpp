// The hybrid layout against a fake tree: v1 hierarchies (co-mounted or not) plus the cgroup2 mount.

#include <catch2/catch.hpp>

#include "daemon/cgroup/cgroup.h"
#include "fake_tree.h"

using namespace gitvisor::daemon;
using namespace gitvisor::daemon::testing;

namespace {

const std::string kService = "/system.slice/gitvisord.service";

// Debian-style hybrid: cpu and cpuacct co-mounted as "cpu,cpuacct", with symlinks cpu and cpuacct.
struct FakeHybrid {
    TempTree tree;
    std::string root = tree / "cgroup";
    std::string proc = tree / "proc-self-cgroup";

    FakeHybrid() {
        for (const char* h : {"memory", "pids", "cpu,cpuacct", "unified", "systemd", "blkio"}) {
            put_files(root + "/" + h + kService, {{"cgroup.procs", ""}});
        }
        std::filesystem::create_directory_symlink("cpu,cpuacct", root + "/cpu");
        std::filesystem::create_directory_symlink("cpu,cpuacct", root + "/cpuacct");
        put_file(proc, "12:pids:" + kService + "\n9:memory:" + kService + "\n7:blkio:" + kService +
                           "\n4:cpu,cpuacct:" + kService + "\n1:name=systemd:" + kService +
                           "\n0::" + kService + "\n");
    }
    std::string parent(const std::string& hierarchy) const {
        return root + "/" + hierarchy + kService + "/gitvisor";
    }
    CgroupManager detect() const { return CgroupManager::detect(root, proc, "gitvisor"); }
};

}  // namespace

TEST_CASE("hybrid: one directory per hierarchy, co-mounted cpu,cpuacct once, unified last") {
    FakeHybrid fake;
    CgroupManager m = fake.detect();
    REQUIRE(m.layout() == CgroupLayout::Hybrid);
    CHECK(m.describe() ==
          "hybrid cgroup v1, units under " + fake.parent("memory") + " (memory pids cpu,cpuacct unified)");

    UnitCgroup web = m.locate("web.service");
    CHECK(web.display_path() == kService + "/gitvisor/web.service");
    CHECK(web.dirs() == std::vector<std::string>{fake.parent("memory") + "/web.service",
                                                 fake.parent("pids") + "/web.service",
                                                 fake.parent("cpu,cpuacct") + "/web.service",
                                                 fake.parent("unified") + "/web.service"});
    for (const char* h : {"memory", "pids", "cpu,cpuacct", "unified"}) {
        CHECK(std::filesystem::is_directory(fake.parent(h)));
    }
    CHECK_FALSE(std::filesystem::exists(fake.parent("blkio")));
}

TEST_CASE("hybrid: separately mounted cpu and cpuacct, and a memory cgroup of its own") {
    // The layout of the machines gitvisor is tested on: only the memory hierarchy places gitvisord deeper.
    TempTree tree;
    const std::string root = tree / "cgroup";
    put_files(root + "/memory/jobs/abc", {{"cgroup.procs", ""}});
    for (const char* h : {"pids", "cpu", "cpuacct", "unified"})
        put_files(root + "/" + h, {{"cgroup.procs", ""}});
    put_file(tree / "proc", "8:pids:/\n4:memory:/jobs/abc\n2:cpuacct:/\n1:cpu:/\n0::/\n");

    CgroupManager m = CgroupManager::detect(root, tree / "proc", "gitvisor");
    REQUIRE(m.layout() == CgroupLayout::Hybrid);
    UnitCgroup web = m.locate("web.service");
    CHECK(web.display_path() == "/jobs/abc/gitvisor/web.service");
    CHECK(web.dirs() == std::vector<std::string>{
                            root + "/memory/jobs/abc/gitvisor/web.service",
                            root + "/pids/gitvisor/web.service", root + "/cpu/gitvisor/web.service",
                            root + "/cpuacct/gitvisor/web.service", root + "/unified/gitvisor/web.service"});
}

TEST_CASE("hybrid: without a cgroup2 mount the v1 hierarchies serve alone") {
    FakeHybrid fake;
    put_file(fake.proc,
             "12:pids:" + kService + "\n9:memory:" + kService + "\n4:cpu,cpuacct:" + kService + "\n");
    CgroupManager m = fake.detect();
    REQUIRE(m.layout() == CgroupLayout::Hybrid);
    CHECK(m.locate("a.service").dirs().size() == 3);
    CHECK(m.describe() ==
          "hybrid cgroup v1, units under " + fake.parent("memory") + " (memory pids cpu,cpuacct)");
}

TEST_CASE("hybrid: a controller that is not mounted is named in describe") {
    FakeHybrid fake;
    put_file(fake.proc, "9:memory:" + kService + "\n4:cpu,cpuacct:" + kService + "\n");
    CgroupManager m = fake.detect();
    REQUIRE(m.layout() == CgroupLayout::Hybrid);
    CHECK(m.describe() == "hybrid cgroup v1, units under " + fake.parent("memory") +
                              " (memory cpu,cpuacct): no usable hierarchy for pids");

    // TasksMax= then cannot be honoured, and says so.
    put_files(fake.parent("memory") + "/a.service", v1_memory_files());
    CgroupLimits limits;
    limits.tasks_max = 10;
    auto made = m.create("a.service", limits);
    REQUIRE_FALSE(made);
    CHECK(made.error() == "cannot set TasksMax= for cgroup '" + kService +
                              "/gitvisor/a.service': the pids controller is not available (no pids.max)");
}

TEST_CASE("hybrid: each limit is written to its v1 file, and an unset limit to its default") {
    FakeHybrid fake;
    CgroupManager m = fake.detect();
    const std::string memory = fake.parent("memory") + "/web.service";
    const std::string pids = fake.parent("pids") + "/web.service";
    const std::string cpu = fake.parent("cpu,cpuacct") + "/web.service";
    const std::string unified = fake.parent("unified") + "/web.service";
    put_files(memory, v1_memory_files());
    put_files(pids, v1_pids_files());
    auto cpu_files = v1_cpu_files();
    cpu_files.merge(v1_cpuacct_files());
    put_files(cpu, cpu_files);
    put_files(unified, unified_files());

    CgroupLimits limits;
    limits.memory_max = 32ull << 20;
    limits.memory_high = 16ull << 20;
    limits.cpu_quota_usec = 200000;
    limits.cpu_weight = 50;
    limits.tasks_max = 5;
    REQUIRE(m.create("web.service", limits));
    CHECK(file_text(memory + "/memory.limit_in_bytes") == "33554432");
    CHECK(file_text(memory + "/memory.soft_limit_in_bytes") == "16777216");
    CHECK(file_text(cpu + "/cpu.cfs_period_us") == "100000");
    CHECK(file_text(cpu + "/cpu.cfs_quota_us") == "20000");
    CHECK(file_text(cpu + "/cpu.shares") == "512");
    CHECK(file_text(pids + "/pids.max") == "5");

    REQUIRE(m.create("web.service", CgroupLimits{}));
    CHECK(file_text(memory + "/memory.limit_in_bytes") == "-1");
    CHECK(file_text(memory + "/memory.soft_limit_in_bytes") == "-1");
    CHECK(file_text(cpu + "/cpu.cfs_quota_us") == "-1");
    CHECK(file_text(cpu + "/cpu.shares") == "1024");
    CHECK(file_text(pids + "/pids.max") == "max");
}

TEST_CASE("hybrid: cpu.shares follows the weight within the kernel's range") {
    FakeHybrid fake;
    CgroupManager m = fake.detect();
    const std::string cpu = fake.parent("cpu,cpuacct") + "/w.service";
    put_files(cpu, v1_cpu_files());
    for (auto [weight, shares] :
         {std::pair{1u, "10"}, std::pair{100u, "1024"}, std::pair{10000u, "102400"}}) {
        CgroupLimits limits;
        limits.cpu_weight = weight;
        REQUIRE(m.create("w.service", limits));
        CHECK(file_text(cpu + "/cpu.shares") == shares);
    }
}

TEST_CASE("detection: no cgroup file system, or no /proc/self/cgroup, means no cgroups") {
    TempTree tree;
    put_file(tree / "proc", "0::/\n");
    std::filesystem::create_directories(tree / "empty");
    CgroupManager m = CgroupManager::detect(tree / "empty", tree / "proc", "gitvisor");
    CHECK(m.layout() == CgroupLayout::None);
    CHECK(m.describe() == "none (no cgroup file system is mounted at '" + (tree / "empty") + "')");

    CgroupManager no_proc = CgroupManager::detect(tree / "empty", tree / "missing", "gitvisor");
    CHECK(no_proc.describe() == "none (cannot read '" + (tree / "missing") + "': No such file or directory)");
    CHECK(std::string(cgroup_layout_name(CgroupLayout::None)) == "none");
}

TEST_CASE("hybrid: hierarchies listed in /proc/self/cgroup but not mounted are not used") {
    TempTree tree;
    const std::string root = tree / "cgroup";
    std::filesystem::create_directories(root + "/memory");  // mount point without a mount: no cgroup.procs
    put_file(tree / "proc", "4:memory:/\n");
    CgroupManager m = CgroupManager::detect(root, tree / "proc", "gitvisor");
    CHECK(m.layout() == CgroupLayout::None);
    CHECK(m.describe() ==
          "none (no cgroup v1 hierarchy for memory, pids or cpu is mounted under '" + root + "')");
}
