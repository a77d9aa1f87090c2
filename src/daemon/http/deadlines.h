#pragma once
// The clock of every connection of the HTTP endpoint: from its accept to the end of its request, then again
// while its answer is written. When one runs out, its socket is shut down, which wakes the thread blocked on
// it (or ends a queued connection as soon as a thread takes it). A connection still waiting for a thread
// whose whole request head has arrived is spared (its clock starts again): the wait is the server's doing,
// not the client's, and slow clients ahead of it in the queue must not take it down with them.
// Entries hold a reference to their socket and are removed, under the mutex, before the connection's session
// closes the descriptor: a shutdown (or peek) never reaches a reused one. The thread sleeps while no
// connection is watched.

#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <thread>

namespace gitvisor::daemon {

class Deadlines {
public:
    Deadlines(std::chrono::milliseconds timeout, size_t max_watched);
    ~Deadlines();
    Deadlines(const Deadlines&) = delete;
    Deadlines& operator=(const Deadlines&) = delete;

    // A new connection (accept thread). False when too many are being read already: it is closed then.
    bool admit(const Poco::Net::StreamSocket& socket);
    // A thread has taken the connection: from now on it is cut off when its time runs out, head or not.
    void taken(const Poco::Net::StreamSocket& socket);
    // Starts the clock again for `socket` (its answer is about to be written).
    void watch(const Poco::Net::StreamSocket& socket);
    void release(const Poco::Net::StreamSocket& socket);
    // Shuts down every watched socket now and forgets them (stop()).
    void cut_all();

private:
    using Clock = std::chrono::steady_clock;
    struct Entry {
        Poco::Net::StreamSocket socket;
        Clock::time_point deadline;
        bool taken = false;  // by a thread, which is reading or answering it
    };

    Entry& arm(const Poco::Net::StreamSocket& socket);  // m_mutex held
    void run();

    const std::chrono::milliseconds m_timeout;
    const size_t m_max_watched;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::map<const Poco::Net::SocketImpl*, Entry> m_entries;
    bool m_stopping = false;
    std::thread m_thread;  // last: started once the rest is ready
};

}  // namespace gitvisor::daemon
