#pragma once
// The HTTP endpoint's accept loop. Its thread sleeps in poll() until a client connects or stop() is called:
// Poco's TCPServer instead looks at its stop flag every 250 ms, four wake-ups a second of an idle
// gitvisord. Each accepted connection is offered to `admit` (false: it is closed), then handed to Poco's
// TCPServerDispatcher, which runs it on the thread pool as TCPServer would.

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServerDispatcher.h>

#include <functional>
#include <thread>

#include "common/result.h"
#include "common/unique_fd.h"

namespace gitvisor::daemon {

class Acceptor {
public:
    using Admit = std::function<bool(const Poco::Net::StreamSocket&)>;

    // Takes a reference on `dispatcher` (released by the destructor).
    Acceptor(Poco::Net::ServerSocket socket, Poco::Net::TCPServerDispatcher* dispatcher, Admit admit);
    ~Acceptor();
    Acceptor(const Acceptor&) = delete;
    Acceptor& operator=(const Acceptor&) = delete;

    Result<bool> start();
    // Ends the accept thread and closes the listening socket; the dispatcher drops connections still queued
    // and its threads end once their connection is done. Idempotent.
    void stop();

private:
    void run();

    Poco::Net::ServerSocket m_socket;
    Poco::Net::TCPServerDispatcher* m_dispatcher;
    Admit m_admit;
    UniqueFd m_wake;  // an eventfd: stop() writes it
    std::thread m_thread;
    bool m_stopped = false;
};

}  // namespace gitvisor::daemon
