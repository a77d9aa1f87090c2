#pragma once

#include <string>

namespace gitvisor::daemon {

// The way back to a client whose request is answered by a stream of lines (`logs`, `events`).
class ResponseStream {
public:
    explicit ResponseStream(int fd) : m_fd(fd) {}
    // Sends one line (a JSON object's text, without newline). False once the client is gone.
    bool send(const std::string& line);
    // Waits up to `timeout_ms` for the client to go away (or the server to stop); true if it has.
    bool client_gone(int timeout_ms) const;
    int fd() const { return m_fd; }  // for poll(): POLLRDHUP/POLLHUP when the client has gone

private:
    int m_fd;
};

}  // namespace gitvisor::daemon
