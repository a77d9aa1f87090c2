#include "cli/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <Poco/JSON/Parser.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace gitvisor::cli {

std::string socket_path(const std::string& flag) {
    if (!flag.empty()) return flag;
    if (const char* env = std::getenv("GITVISOR_SOCKET"); env && *env) return env;
    return "/run/gitvisor/control.sock";
}

Result<Poco::JSON::Object::Ptr> call(const std::string& socket_file, const Poco::JSON::Object::Ptr& request) {
    using R = Result<Poco::JSON::Object::Ptr>;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_file.size() >= sizeof addr.sun_path) return R::fail("socket path too long: '" + socket_file + "'");
    std::memcpy(addr.sun_path, socket_file.c_str(), socket_file.size() + 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return R::fail(std::string("cannot create a socket: ") + std::strerror(errno));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const std::string error = std::strerror(errno);
        close(fd);
        return R::fail("cannot connect to gitvisord at '" + socket_file + "': " + error + " (is it running?)");
    }
    std::ostringstream out;
    request->stringify(out);
    const std::string line = out.str() + "\n";
    if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
        close(fd);
        return R::fail("cannot send to gitvisord: " + std::string(std::strerror(errno)));
    }
    std::string response;
    char chunk[8192];
    while (response.find('\n') == std::string::npos) {
        const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        response.append(chunk, static_cast<size_t>(n));
    }
    close(fd);
    if (response.empty()) return R::fail("gitvisord closed the connection without an answer");
    try {
        Poco::JSON::Parser parser;
        return R::ok(parser.parse(response.substr(0, response.find('\n'))).extract<Poco::JSON::Object::Ptr>());
    } catch (const std::exception& e) {
        return R::fail(std::string("cannot read gitvisord's answer: ") + e.what());
    }
}

}  // namespace gitvisor::cli
