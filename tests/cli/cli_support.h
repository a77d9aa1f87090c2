#pragma once
// Helpers for tests that drive the real gitvisor binary: a temporary directory removed on every exit
// path, and running a command with its output captured.

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gitvisor::testing {

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "gitvisor-test-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::string& p) const { return m_path / p; }

    void write(const std::string& relative, const std::string& text) const {
        const std::filesystem::path p = m_path / relative;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
    }

private:
    std::filesystem::path m_path;
};

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Runs `command` through /bin/sh in `cwd`, capturing stdout and stderr separately.
inline CommandResult run(const std::string& command, const std::filesystem::path& cwd) {
    TempDir capture;
    const std::string full = "cd " + shell_quote(cwd.string()) + " && " + command + " >" +
                             shell_quote((capture / "out").string()) + " 2>" + shell_quote((capture / "err").string());
    const int status = std::system(full.c_str());
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(capture / "out");
    r.err = slurp(capture / "err");
    return r;
}

inline std::string gitvisor_binary() { return std::string(GITVISOR_BINARY_DIR) + "/src/cli/gitvisor"; }

// git with a fixed identity, so tests do not depend on the machine's configuration.
inline std::string git() {
    return "git -c user.name=gitvisor-test -c user.email=test@gitvisor.invalid -c init.defaultBranch=main "
           "-c commit.gpgsign=false";
}

}  // namespace gitvisor::testing
