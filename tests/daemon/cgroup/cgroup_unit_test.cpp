// UnitCgroup operations against fake directories, and the parsing of /proc/self/cgroup.
// No test here signals a pid: a fake cgroup.procs could name a real process.

#include <catch2/catch.hpp>
#include <csignal>

#include "daemon/cgroup/cgroup.h"
#include "daemon/cgroup/cgroup_internal.h"
#include "fake_tree.h"

using namespace gitvisor::daemon;
using namespace gitvisor::daemon::testing;

TEST_CASE("stats: v2 files") {
    TempTree tree;
    auto files = v2_unit_files();
    files["memory.current"] = "12345678\n";
    files["cpu.stat"] = "usage_usec 777\nuser_usec 500\nsystem_usec 277\n";
    files["pids.current"] = "3\n";
    put_files(tree / "web", files);
    CgroupStats s = UnitCgroup("/gitvisor/web", {tree / "web"}).stats();
    CHECK(s.memory_bytes == 12345678u);
    CHECK(s.cpu_usec == 777u);
    CHECK(s.tasks == 3u);
}

TEST_CASE("stats: v1 files across hierarchies, cpuacct.usage in nanoseconds") {
    TempTree tree;
    auto memory = v1_memory_files();
    memory["memory.usage_in_bytes"] = "4096\n";
    auto pids = v1_pids_files();
    pids["pids.current"] = "7\n";
    auto cpuacct = v1_cpuacct_files();
    cpuacct["cpuacct.usage"] = "5000999\n";
    put_files(tree / "memory", memory);
    put_files(tree / "pids", pids);
    put_files(tree / "cpu", v1_cpu_files());  // its cpu.stat has no usage_usec
    put_files(tree / "cpuacct", cpuacct);
    put_files(tree / "unified", unified_files());
    UnitCgroup cg("/x", {tree / "memory", tree / "pids", tree / "cpu", tree / "cpuacct", tree / "unified"});
    CgroupStats s = cg.stats();
    CHECK(s.memory_bytes == 4096u);
    CHECK(s.cpu_usec == 5000u);
    CHECK(s.tasks == 7u);
}

TEST_CASE("stats: nothing readable leaves every value unset") {
    TempTree tree;
    CgroupStats s = UnitCgroup("/x", {tree / "gone"}).stats();
    CHECK_FALSE(s.memory_bytes);
    CHECK_FALSE(s.cpu_usec);
    CHECK_FALSE(s.tasks);
}

TEST_CASE("pids: union of every hierarchy and of the cgroups below, sorted once each") {
    TempTree tree;
    put_files(tree / "memory", {{"cgroup.procs", "12\n7\n"}});
    put_files(tree / "memory/child", {{"cgroup.procs", "30\n"}});
    put_files(tree / "pids", {{"cgroup.procs", "7\n9\n"}});
    UnitCgroup cg("/x", {tree / "memory", tree / "pids", tree / "missing"});
    CHECK(cg.pids() == std::vector<pid_t>{7, 9, 12, 30});
}

TEST_CASE("populated: cgroup.events where present, else any pid") {
    TempTree tree;
    put_files(tree / "memory", {{"cgroup.procs", ""}});
    put_files(tree / "unified", unified_files());
    UnitCgroup cg("/x", {tree / "memory", tree / "unified"});
    CHECK_FALSE(cg.populated());

    put_file(tree / "unified/cgroup.events", "populated 1\nfrozen 0\n");
    CHECK(cg.populated());

    put_file(tree / "unified/cgroup.events", "populated 0\nfrozen 0\n");
    put_files(tree / "memory/sub", {{"cgroup.procs", "42\n"}});
    CHECK(cg.populated());
}

TEST_CASE("kill_all: SIGKILL goes through cgroup.kill, other signals do not") {
    TempTree tree;
    put_files(tree / "unified", unified_files());
    put_files(tree / "memory", {{"cgroup.procs", ""}});
    UnitCgroup cg("/x", {tree / "memory", tree / "unified"});
    CHECK(cg.kill_all(SIGTERM));
    CHECK(file_text(tree / "unified/cgroup.kill") == "");
    CHECK(cg.kill_all());
    CHECK(file_text(tree / "unified/cgroup.kill") == "1");
    CHECK_FALSE(std::filesystem::exists(tree / "memory/cgroup.kill"));
}

TEST_CASE("remove: child cgroups first, missing directories are fine") {
    TempTree tree;
    std::filesystem::create_directories(tree / "memory/web/sub/deeper");
    std::filesystem::create_directories(tree / "pids/web");
    UnitCgroup cg("/x", {tree / "memory/web", tree / "pids/web", tree / "cpu/web"});
    REQUIRE(cg.remove());
    CHECK_FALSE(std::filesystem::exists(tree / "memory/web"));
    CHECK_FALSE(std::filesystem::exists(tree / "pids/web"));
    CHECK(cg.remove());  // again: nothing left to do
}

TEST_CASE("remove: a directory that cannot go is named with the reason") {
    TempTree tree;
    put_files(tree / "memory/web", {{"stray", ""}});
    std::filesystem::create_directories(tree / "pids/web");
    auto removed = UnitCgroup("/x", {tree / "memory/web", tree / "pids/web"}).remove();
    REQUIRE_FALSE(removed);
    CHECK(removed.error() == "cannot remove cgroup '" + (tree / "memory/web") + "': Directory not empty");
    CHECK_FALSE(std::filesystem::exists(tree / "pids/web"));  // the others are still removed
}

TEST_CASE("set_limits: a limit with no directory at all is an error") {
    CgroupLimits limits;
    limits.cpu_quota_usec = 100000;
    auto set = UnitCgroup().set_limits(limits);
    REQUIRE_FALSE(set);
    CHECK(set.error() ==
          "cannot set CPUQuota= for cgroup '': the cpu controller is not available "
          "(no cpu.cfs_period_us or cpu.cfs_quota_us or cpu.max)");
    CHECK(UnitCgroup().set_limits(CgroupLimits{}));
}

TEST_CASE("/proc/self/cgroup: v1 lists, cgroup2, named hierarchies, colons in paths") {
    using gitvisor::daemon::cgroup_detail::parse_proc_cgroup;
    auto entries = parse_proc_cgroup("5:cpu,cpuacct:/a\n1:name=systemd:/b\n0::/c:d\ngarbage\n3:memory:\n");
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].id == "5");
    CHECK(entries[0].controllers == std::vector<std::string>{"cpu", "cpuacct"});
    CHECK(entries[0].path == "/a");
    CHECK(entries[1].controllers == std::vector<std::string>{"name=systemd"});
    CHECK(entries[2].id == "0");
    CHECK(entries[2].controllers.empty());
    CHECK(entries[2].path == "/c:d");
}

TEST_CASE("paths: joined without doubled or trailing slashes") {
    using gitvisor::daemon::cgroup_detail::join_path;
    CHECK(join_path("/sys/fs/cgroup", "/") == "/sys/fs/cgroup");
    CHECK(join_path("/sys/fs/cgroup/", "/a/b") == "/sys/fs/cgroup/a/b");
    CHECK(join_path("/", "gitvisor") == "/gitvisor");
    CHECK(join_path("/a", "gitvisor") == "/a/gitvisor");
}

TEST_CASE("CPU quota: per second of wall time to per 100 ms period") {
    using gitvisor::daemon::cgroup_detail::cpu_quota_per_period;
    CHECK(cpu_quota_per_period(200000) == 20000u);    // 20%
    CHECK(cpu_quota_per_period(1500000) == 150000u);  // 150%: one and a half CPUs
    CHECK(cpu_quota_per_period(0) == 1000u);          // the kernel's minimum
}

TEST_CASE("stats: the cache keeps the files open and reads them again, and opens them anew for a new generation") {
    TempTree tree;
    auto memory = v1_memory_files();
    memory["memory.usage_in_bytes"] = "4096\n";
    auto pids = v1_pids_files();
    pids["pids.current"] = "7\n";
    auto cpuacct = v1_cpuacct_files();
    cpuacct["cpuacct.usage"] = "5000999\n";
    put_files(tree / "memory", memory);
    put_files(tree / "pids", pids);
    put_files(tree / "cpu", v1_cpu_files());  // its cpu.stat has no usage_usec
    put_files(tree / "cpuacct", cpuacct);
    UnitCgroup cg("/x", {tree / "memory", tree / "pids", tree / "cpu", tree / "cpuacct"});
    CgroupStatsCache cache;
    CgroupStats s = cache.read(cg, "web.service", 1);
    CHECK(s.memory_bytes == 4096u);
    CHECK(s.cpu_usec == 5000u);
    CHECK(s.tasks == 7u);
    // The same open files, read again: a value written in place is seen.
    put_files(tree / "pids", {{"pids.current", "9\n"}});
    CHECK(cache.read(cg, "web.service", 1).tasks == 9u);
    // The files went away (the cgroup was removed and made again elsewhere): a new generation opens anew.
    TempTree other;
    put_files(other / "memory", {{"memory.usage_in_bytes", "8192\n"}});
    UnitCgroup moved("/x", {other / "memory"});
    s = cache.read(moved, "web.service", 2);
    CHECK(s.memory_bytes == 8192u);
    CHECK_FALSE(s.tasks);
    cache.retain({});
    CHECK(cache.read(cg, "web.service", 3).tasks == 9u);
}
