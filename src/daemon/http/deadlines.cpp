#include "daemon/http/deadlines.h"

#include <sys/socket.h>

#include <Poco/Exception.h>

#include <algorithm>
#include <string_view>

namespace gitvisor::daemon {
namespace {

using Poco::Net::StreamSocket;

// Whether a request head has arrived whole (an empty line ends it), looking without reading. A full buffer
// counts too: a thread will tell.
bool head_arrived(const StreamSocket& socket) {
    char buffer[16384];
    const ssize_t n = ::recv(socket.impl()->sockfd(), buffer, sizeof buffer, MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) return false;
    const std::string_view seen(buffer, static_cast<size_t>(n));
    return seen.size() == sizeof buffer || seen.find("\n\r\n") != std::string_view::npos ||
           seen.find("\n\n") != std::string_view::npos;
}

void cut(StreamSocket& socket) {
    try {
        socket.shutdown();
    } catch (const Poco::Exception&) {
        // not connected any more: nothing to wake
    }
}

}  // namespace

Deadlines::Deadlines(std::chrono::milliseconds timeout, size_t max_watched)
    : m_timeout(timeout), m_max_watched(max_watched), m_thread([this] { run(); }) {}

Deadlines::~Deadlines() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

bool Deadlines::admit(const StreamSocket& socket) {
    std::lock_guard lock(m_mutex);
    if (m_entries.size() >= m_max_watched) return false;
    arm(socket);
    return true;
}

void Deadlines::taken(const StreamSocket& socket) {
    std::lock_guard lock(m_mutex);
    if (const auto it = m_entries.find(socket.impl()); it != m_entries.end()) it->second.taken = true;
}

void Deadlines::watch(const StreamSocket& socket) {
    std::lock_guard lock(m_mutex);
    arm(socket).taken = true;
}

void Deadlines::release(const StreamSocket& socket) {
    std::lock_guard lock(m_mutex);
    m_entries.erase(socket.impl());
}

void Deadlines::cut_all() {
    std::lock_guard lock(m_mutex);
    for (auto& [impl, entry] : m_entries) cut(entry.socket);
    m_entries.clear();
}

Deadlines::Entry& Deadlines::arm(const StreamSocket& socket) {
    // Every deadline is now + m_timeout, so a new one is never earlier than those the thread waits for.
    const bool was_empty = m_entries.empty();
    Entry& entry = m_entries.insert_or_assign(socket.impl(), Entry{socket, Clock::now() + m_timeout}).first->second;
    if (was_empty) m_wake.notify_one();
    return entry;
}

void Deadlines::run() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        if (m_entries.empty()) {
            m_wake.wait(lock);
            continue;
        }
        const auto now = Clock::now();
        auto earliest = Clock::time_point::max();
        for (auto it = m_entries.begin(); it != m_entries.end();) {
            if (it->second.deadline <= now && !it->second.taken && head_arrived(it->second.socket)) {
                it->second.deadline = now + m_timeout;
            }
            if (it->second.deadline <= now) {
                cut(it->second.socket);
                it = m_entries.erase(it);
            } else {
                earliest = std::min(earliest, it->second.deadline);
                ++it;
            }
        }
        if (earliest != Clock::time_point::max()) m_wake.wait_until(lock, earliest);
    }
}

}  // namespace gitvisor::daemon
