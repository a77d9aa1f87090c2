#pragma once
// An environment variable set or unset for the length of a scope, for tests of code that reads it: libgit2
// reads HOME (for ~/.ssh/known_hosts) at each ssh connection, and http_proxy for each http:// fetch.

#include <cstdlib>
#include <optional>
#include <string>

namespace gitvisor::testing {

class ScopedEnv {
public:
    // `value` std::nullopt unsets the variable; the destructor puts back what was there.
    ScopedEnv(std::string name, const std::optional<std::string>& value) : m_name(std::move(name)) {
        if (const char* old = std::getenv(m_name.c_str())) m_old = old;
        set(value);
    }
    ~ScopedEnv() { set(m_old); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    void set(const std::optional<std::string>& value) const {
        if (value)
            ::setenv(m_name.c_str(), value->c_str(), 1);
        else
            ::unsetenv(m_name.c_str());
    }

    std::string m_name;
    std::optional<std::string> m_old;
};

}  // namespace gitvisor::testing
