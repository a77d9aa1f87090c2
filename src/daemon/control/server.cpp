#include "daemon/control/server.h"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/exit_codes.h"

namespace gitvisor::daemon {
namespace {

constexpr size_t kMaxRequest = 1 << 20;

bool send_all(int fd, const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

bool ResponseStream::send(const std::string& line) { return send_all(m_fd, line + "\n"); }

bool ResponseStream::client_gone(int timeout_ms) const {
    pollfd p{m_fd, POLLRDHUP, 0};
    const int n = poll(&p, 1, timeout_ms);
    return n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

bool may_change(int64_t uid, int64_t gid) {
    if (uid == 0) return true;
    group* g = getgrnam("gitvisor");
    if (!g) return false;
    if (g->gr_gid == static_cast<gid_t>(gid)) return true;
    const passwd* pw = getpwuid(static_cast<uid_t>(uid));
    if (!pw) return false;
    int count = 64;
    std::vector<gid_t> groups(static_cast<size_t>(count));
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<size_t>(count));
        getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count);
    }
    groups.resize(static_cast<size_t>(std::max(count, 0)));
    return std::find(groups.begin(), groups.end(), g->gr_gid) != groups.end();
}

ControlServer::~ControlServer() { stop(); }

Result<bool> ControlServer::start(const std::string& path, Handler handler, StreamHandler stream_handler) {
    m_path = path;
    m_handler = std::move(handler);
    m_stream_handler = std::move(stream_handler);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return Result<bool>::fail("socket path too long: '" + path + "'");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    m_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    m_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_listen < 0 || m_wake < 0) return Result<bool>::fail(std::string("cannot create a socket: ") + std::strerror(errno));
    unlink(path.c_str());
    if (bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(m_listen, 128) != 0)
        return Result<bool>::fail("cannot listen on '" + path + "': " + std::strerror(errno));
    chmod(path.c_str(), 0666);
    m_thread = std::thread([this] { accept_loop(); });
    return Result<bool>::ok(true);
}

void ControlServer::stop() {
    if (m_thread.joinable()) {
        const uint64_t one = 1;
        (void)!write(m_wake, &one, sizeof one);
        m_thread.join();
    }
    std::vector<std::thread> connections;
    {
        std::lock_guard lock(m_mutex);
        for (int fd : m_open) shutdown(fd, SHUT_RDWR);
        connections.swap(m_connections);
    }
    for (std::thread& t : connections) t.join();
    if (m_listen >= 0) {
        close(m_listen);
        unlink(m_path.c_str());
    }
    if (m_wake >= 0) close(m_wake);
    m_listen = m_wake = -1;
}

void ControlServer::accept_loop() {
    while (true) {
        pollfd fds[2] = {{m_listen, POLLIN, 0}, {m_wake, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents) return;
        const int fd = accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
        std::vector<std::thread> finished;
        {
            std::lock_guard lock(m_mutex);
            // Join the threads of connections that ended, so a busy socket does not pile them up.
            for (auto it = m_connections.begin(); it != m_connections.end();) {
                if (std::find(m_done.begin(), m_done.end(), it->get_id()) != m_done.end()) {
                    finished.push_back(std::move(*it));
                    it = m_connections.erase(it);
                } else {
                    ++it;
                }
            }
            m_done.clear();
            if (fd >= 0) {
                m_open.push_back(fd);
                m_connections.emplace_back([this, fd] { serve(fd); });
            }
        }
        for (std::thread& t : finished) t.join();
    }
}

void ControlServer::serve(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    Caller caller;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        caller.uid = cred.uid;
        caller.gid = cred.gid;
        caller.pid = cred.pid;
        caller.may_change = may_change(cred.uid, cred.gid);
    }
    std::string buffer;
    char chunk[4096];
    bool open = true;
    while (open) {
        const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        buffer.append(chunk, static_cast<size_t>(n));
        if (buffer.size() > kMaxRequest) break;
        for (size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
            const std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            Poco::JSON::Object::Ptr response;
            try {
                Poco::JSON::Parser parser;
                const auto request = parser.parse(line).extract<Poco::JSON::Object::Ptr>();
                ResponseStream stream(fd);
                if (m_stream_handler && m_stream_handler(request, caller, stream)) {
                    open = false;
                    break;
                }
                response = m_handler(request, caller);
            } catch (const std::exception& e) {
                response = new Poco::JSON::Object;
                response->set("ok", false);
                response->set("code", static_cast<int>(kExitUsage));
                response->set("error", std::string("bad request: ") + e.what());
            }
            std::ostringstream out;
            response->stringify(out);
            if (!send_all(fd, out.str() + "\n")) {
                open = false;
                break;
            }
        }
    }
    std::lock_guard lock(m_mutex);
    std::erase(m_open, fd);
    close(fd);
    m_done.push_back(std::this_thread::get_id());
}

}  // namespace gitvisor::daemon
