#pragma once
// A fake cgroup tree in a temporary directory: plain directories and files standing in for cgroupfs.
// The kernel fills a new cgroup directory with its interface files; here a test creates them itself
// (put_files) before the code under test reuses the directory.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gitvisor::daemon::testing {

class TempTree {
public:
    TempTree() {
        std::string pattern = (std::filesystem::temp_directory_path() / "gitvisor-cgroup-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        m_path = pattern;
    }
    ~TempTree() {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;

    const std::string& path() const { return m_path; }
    std::string operator/(const std::string& relative) const { return m_path + "/" + relative; }

private:
    std::string m_path;
};

inline void put_file(const std::string& path, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::trunc) << content;
}

inline std::string file_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// A directory holding `files` (name -> content), as the kernel would make it.
inline void put_files(const std::string& dir, const std::map<std::string, std::string>& files) {
    std::filesystem::create_directories(dir);
    for (const auto& [name, content] : files) put_file(dir + "/" + name, content);
}

// The interface files of a v2 unit cgroup with memory, pids and cpu enabled.
inline std::map<std::string, std::string> v2_unit_files() {
    return {{"cgroup.procs", ""},
            {"cgroup.events", "populated 0\nfrozen 0\n"},
            {"cgroup.kill", ""},
            {"memory.max", "max\n"},
            {"memory.high", "max\n"},
            {"memory.current", "0\n"},
            {"cpu.max", "max 100000\n"},
            {"cpu.weight", "100\n"},
            {"cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n"},
            {"pids.max", "max\n"},
            {"pids.current", "0\n"}};
}

// The interface files of a cgroup v1 directory in each hierarchy.
inline std::map<std::string, std::string> v1_memory_files() {
    return {{"cgroup.procs", ""},
            {"memory.limit_in_bytes", "9223372036854771712\n"},
            {"memory.soft_limit_in_bytes", "9223372036854771712\n"},
            {"memory.usage_in_bytes", "0\n"}};
}
inline std::map<std::string, std::string> v1_pids_files() {
    return {{"cgroup.procs", ""}, {"pids.max", "max\n"}, {"pids.current", "0\n"}};
}
inline std::map<std::string, std::string> v1_cpu_files() {
    return {{"cgroup.procs", ""},
            {"cpu.cfs_period_us", "100000\n"},
            {"cpu.cfs_quota_us", "-1\n"},
            {"cpu.shares", "1024\n"},
            {"cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n"}};
}
inline std::map<std::string, std::string> v1_cpuacct_files() {
    return {{"cgroup.procs", ""}, {"cpuacct.usage", "0\n"}};
}
// The hybrid cgroup2 directory: no controllers, but procs, kill and events.
inline std::map<std::string, std::string> unified_files() {
    return {{"cgroup.procs", ""},
            {"cgroup.events", "populated 0\nfrozen 0\n"},
            {"cgroup.kill", ""},
            {"cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n"}};
}

}  // namespace gitvisor::daemon::testing
