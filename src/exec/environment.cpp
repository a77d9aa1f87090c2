#include "exec/environment.h"

#include <fcntl.h>
#include <glob.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"
#include "unitfile/words.h"

namespace gitvisor::exec {
namespace {

constexpr size_t kMaxFileBytes = 16 * 1024 * 1024;

// The whole file, or the errno.
int read_file(const std::string& path, std::string& out) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) return errno;
    char buffer[4096];
    while (true) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return 0;
        out.append(buffer, static_cast<size_t>(n));
        if (out.size() > kMaxFileBytes) return EFBIG;
    }
}

// The files one entry names: itself, or the matches of a glob pattern.
int expand_entry(const std::string& pattern, bool optional, std::vector<std::string>& paths) {
    if (pattern.find_first_of("*?[") == std::string::npos) {
        paths.push_back(pattern);
        return 0;
    }
    glob_t matches{};
    const int r = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &matches);
    if (r == 0) {
        for (size_t i = 0; i < matches.gl_pathc; ++i) paths.emplace_back(matches.gl_pathv[i]);
    }
    ::globfree(&matches);
    if (r == GLOB_NOMATCH) return optional ? 0 : ENOENT;
    if (r == GLOB_NOSPACE) return ENOMEM;
    return r == 0 ? 0 : EIO;
}

}  // namespace

Result<EnvList> load_environment_files(const std::vector<std::string>& files, int* error_number) {
    EnvList out;
    for (const std::string& entry : files) {
        const bool optional = !entry.empty() && entry[0] == '-';
        const std::string pattern = optional ? entry.substr(1) : entry;
        std::vector<std::string> paths;
        if (const int error = expand_entry(pattern, optional, paths); error != 0) {
            *error_number = error;
            return Result<EnvList>::fail(pattern + ": " + std::strerror(error));
        }
        for (const std::string& path : paths) {
            std::string text;
            if (const int error = read_file(path, text); error != 0) {
                if (optional && error == ENOENT) continue;
                *error_number = error;
                return Result<EnvList>::fail(path + ": " + std::strerror(error));
            }
            auto parsed = unitfile::parse_environment_file(text);
            if (!parsed) {
                *error_number = EINVAL;
                return Result<EnvList>::fail(path + ": " + parsed.error());
            }
            for (auto& assignment : *parsed) out.push_back(std::move(assignment));
        }
    }
    return Result<EnvList>::ok(std::move(out));
}

EnvMap merge_environment(const EnvList& base, const EnvList& environment, const EnvList& files,
                         const std::vector<std::string>& unset) {
    EnvMap env;
    for (const EnvList* layer : {&base, &environment, &files}) {
        for (const auto& [name, value] : *layer) env[name] = value;
    }
    for (const std::string& entry : unset) {
        const size_t equals = entry.find('=');
        if (equals == std::string::npos) {
            env.erase(entry);
            continue;
        }
        const auto it = env.find(entry.substr(0, equals));
        if (it != env.end() && it->second == entry.substr(equals + 1)) env.erase(it);
    }
    return env;
}

std::vector<std::string> environment_strings(const EnvMap& env) {
    std::vector<std::string> out;
    out.reserve(env.size());
    for (const auto& [name, value] : env) out.push_back(name + "=" + value);
    return out;
}

}  // namespace gitvisor::exec
