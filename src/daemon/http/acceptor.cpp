#include "daemon/http/acceptor.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <Poco/Exception.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace gitvisor::daemon {

Acceptor::Acceptor(Poco::Net::ServerSocket socket, Poco::Net::TCPServerDispatcher* dispatcher, Admit admit)
    : m_socket(std::move(socket)), m_dispatcher(dispatcher), m_admit(std::move(admit)) {}

Acceptor::~Acceptor() {
    stop();
    m_dispatcher->release();
}

Result<bool> Acceptor::start() {
    m_wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!m_wake) return Result<bool>::fail(std::string("cannot make an eventfd: ") + std::strerror(errno));
    // Non-blocking: a client that is gone by the time accept() runs must not hold the thread.
    m_socket.setBlocking(false);
    m_thread = std::thread([this] { run(); });
    return Result<bool>::ok(true);
}

void Acceptor::stop() {
    if (m_stopped) return;
    m_stopped = true;
    if (m_thread.joinable()) {
        const uint64_t one = 1;
        (void)!::write(m_wake.get(), &one, sizeof one);
        m_thread.join();
    }
    m_socket.close();
    m_dispatcher->stop();
}

void Acceptor::run() {
    while (true) {
        pollfd fds[2] = {{m_socket.impl()->sockfd(), POLLIN, 0}, {m_wake.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents != 0) return;
        if (fds[0].revents == 0) continue;
        try {
            Poco::Net::StreamSocket connection = m_socket.acceptConnection();
            // Accepted sockets do not inherit O_NONBLOCK on Linux: the connection's thread blocks on it, with
            // the deadline (admit) to cut it off.
            if (m_admit(connection)) {
                m_dispatcher->enqueue(connection);
            } else {
                connection.close();
            }
        } catch (const Poco::Exception&) {
            // EAGAIN (the client gave up first), EMFILE...: the next one may do better.
        }
    }
}

}  // namespace gitvisor::daemon
