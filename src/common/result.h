#pragma once
// Result<T>: a value or an error message. Library code returns these instead of
// logging or throwing; the caller decides how to report (STYLE.md, "errors are values").

#include <optional>
#include <string>
#include <utility>

namespace gitvisor {

template <class T>
class Result {
public:
    static Result ok(T value) { return Result(std::move(value)); }
    static Result fail(std::string message) {
        Result r;
        r.m_error = std::move(message);
        return r;
    }

    explicit operator bool() const { return m_value.has_value(); }
    bool has_value() const { return m_value.has_value(); }
    const T& value() const { return *m_value; }
    T& value() { return *m_value; }
    const T& operator*() const { return *m_value; }
    T& operator*() { return *m_value; }
    const T* operator->() const { return &*m_value; }
    T* operator->() { return &*m_value; }
    const std::string& error() const { return m_error; }

private:
    Result() = default;
    explicit Result(T value) : m_value(std::move(value)) {}

    std::optional<T> m_value;
    std::string m_error;
};

}  // namespace gitvisor
