#pragma once
// The control socket (DESIGN §7): a Unix stream socket, one JSON object per line each way. The caller's
// identity comes from SO_PEERCRED; the handler decides what it may do.

#include <Poco/JSON/Object.h>

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "daemon/control/response_stream.h"
#include "daemon/core/daemon.h"

namespace gitvisor::daemon {

class ControlServer {
public:
    using Handler = std::function<Poco::JSON::Object::Ptr(const Poco::JSON::Object::Ptr&, const Caller&)>;
    // Answers a streamed request itself and returns true, or returns false for the plain handler. The
    // connection is closed after a stream.
    using StreamHandler = std::function<bool(const Poco::JSON::Object::Ptr&, const Caller&, ResponseStream&)>;

    ControlServer() = default;
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Binds `path` (a stale socket file is replaced; the file is world-connectable, rights are per request).
    Result<bool> start(const std::string& path, Handler handler, StreamHandler stream_handler = {});
    void stop();

private:
    void accept_loop();
    void serve(int fd);

    std::string m_path;
    Handler m_handler;
    StreamHandler m_stream_handler;
    int m_listen = -1;
    int m_wake = -1;
    std::thread m_thread;
    std::mutex m_mutex;
    std::vector<std::thread> m_connections;
    std::vector<int> m_open;
    std::vector<std::thread::id> m_done;  // connection threads that have ended, to be joined
};

// Whether `uid`/`gid` is root or a member of the gitvisor group.
bool may_change(int64_t uid, int64_t gid);

}  // namespace gitvisor::daemon
