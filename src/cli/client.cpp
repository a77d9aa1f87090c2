#include "cli/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace gitvisor::cli {
namespace {

// A connected socket, closed when it goes out of scope.
struct Connection {
    int fd = -1;
    ~Connection() {
        if (fd >= 0) close(fd);
    }
};

Result<bool> connect_and_send(const std::string& socket_file, const std::string& request, Connection& c) {
    using R = Result<bool>;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_file.size() >= sizeof addr.sun_path) return R::fail("socket path too long: '" + socket_file + "'");
    std::memcpy(addr.sun_path, socket_file.c_str(), socket_file.size() + 1);
    c.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return R::fail(std::string("cannot create a socket: ") + std::strerror(errno));
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return R::fail("cannot connect to gitvisord at '" + socket_file + "': " + std::strerror(errno) +
                       " (is it running?)");
    const std::string line = request + "\n";
    size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = send(c.fd, line.data() + done, line.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return R::fail("cannot send to gitvisord: " + std::string(std::strerror(errno)));
        done += static_cast<size_t>(n);
    }
    return R::ok(true);
}

Result<JsonValue> parse_response(const std::string& line) {
    Result<JsonValue> parsed = parse_json(line);
    if (!parsed) return Result<JsonValue>::fail("cannot read gitvisord's answer: " + parsed.error());
    if (!parsed->is_object()) return Result<JsonValue>::fail("cannot read gitvisord's answer: not an object");
    return parsed;
}

}  // namespace

std::string socket_path(const std::string& flag) {
    if (!flag.empty()) return flag;
    if (const char* env = std::getenv("GITVISOR_SOCKET"); env && *env) return env;
    return "/run/gitvisor/control.sock";
}

Result<bool> stream(const std::string& socket_file, const std::string& request,
                    const std::function<bool(const JsonValue&)>& on_line) {
    Connection c;
    if (Result<bool> sent = connect_and_send(socket_file, request, c); !sent) return sent;
    std::string buffer;
    char chunk[16384];
    bool any = false;
    while (true) {
        const ssize_t n = recv(c.fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        buffer.append(chunk, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
            Result<JsonValue> line = parse_response(buffer.substr(start, nl - start));
            if (!line) return Result<bool>::fail(line.error());
            any = true;
            if (!on_line(*line)) return Result<bool>::ok(true);
        }
        buffer.erase(0, start);
    }
    if (!any) return Result<bool>::fail("gitvisord closed the connection without an answer");
    return Result<bool>::ok(true);
}

Result<JsonValue> call(const std::string& socket_file, const std::string& request) {
    std::optional<JsonValue> response;
    Result<bool> r = stream(socket_file, request, [&](const JsonValue& line) {
        response = line;
        return false;
    });
    if (!r) return Result<JsonValue>::fail(r.error());
    return Result<JsonValue>::ok(std::move(*response));
}

const JsonValue& member(const JsonValue& object, std::string_view key) {
    static const JsonValue null;
    const JsonValue* v = object.find(key);
    return v ? *v : null;
}

std::string text(const JsonValue& object, std::string_view key) {
    const JsonValue& v = member(object, key);
    if (v.is_string()) return v.as_string();
    if (v.is_integer()) return std::to_string(v.as_integer());
    return "";
}

int64_t number(const JsonValue& object, std::string_view key) { return member(object, key).as_integer(); }
bool flag(const JsonValue& object, std::string_view key) { return member(object, key).as_bool(); }
bool has_value(const JsonValue& object, std::string_view key) { return !member(object, key).is_null(); }

}  // namespace gitvisor::cli
