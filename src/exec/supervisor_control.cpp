#include "exec/supervisor.h"

// The control socket (docs/exec-protocol.md): one JSON object per line each way, requests answered in
// order, state events pushed to every client; and the status file, written on every change.

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "common/json.h"
#include "common/json_reader.h"
#include "exec/clock.h"

namespace gitvisor::exec {
namespace {

constexpr size_t kMaxClients = 32;
constexpr size_t kMaxRequestBytes = 64 * 1024;
constexpr size_t kMaxPendingOutput = 1024 * 1024;  // a client that reads nothing is dropped past this

std::string ok_reply() { return "{\"ok\":true}"; }
std::string error_reply(std::string_view message) {
    return "{\"ok\":false,\"error\":" + json_quote(message) + "}";
}

}  // namespace

void Supervisor::on_accept() {
    while (true) {
        const int fd = ::accept4(m_listen_fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            return;  // EAGAIN, or a transient error (EMFILE...): the next connection tries again
        }
        add_client(fd);
    }
}

bool Supervisor::add_client(int fd) {
    if (m_clients.size() >= kMaxClients) {
        ::close(fd);
        return false;
    }
    Client client;
    client.id = m_next_id++;
    client.fd.reset(fd);
    watch(fd, EPOLLIN, Tag::Client, client.id);
    m_clients.push_back(std::move(client));
    return true;
}

bool Supervisor::add_control_connection(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        ::close(fd);
        return false;
    }
    return add_client(fd);
}

void Supervisor::on_client(uint32_t id, uint32_t events) {
    const auto it =
        std::find_if(m_clients.begin(), m_clients.end(), [&](const Client& c) { return c.id == id; });
    if (it == m_clients.end() || it->closed) return;
    Client& client = *it;
    if (events & EPOLLOUT) flush_client(client);
    if (client.closed) return;
    if (client.read_closed) {
        if (events & (EPOLLHUP | EPOLLERR)) close_client(client);  // gone for good
        return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    char buffer[4096];
    while (!client.closed) {
        const ssize_t n = ::read(client.fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {
            // A client may shut down its side after the request and still wait for the answer.
            if (n < 0 || (!client.wants_stop && !client.wants_reload && client.out.empty())) {
                close_client(client);
            } else {
                client.read_closed = true;
                update_interest(client);
            }
            break;
        }
        client.in.append(buffer, static_cast<size_t>(n));
        size_t newline = 0;
        while (!client.closed && (newline = client.in.find('\n')) != std::string::npos) {
            const std::string line = client.in.substr(0, newline);
            client.in.erase(0, newline + 1);
            handle_request(client, line);
            // The request may have ended the unit; the others wait for the loop's end.
            if (m_finished) return;
        }
        if (client.in.size() > kMaxRequestBytes) close_client(client);
    }
}

void Supervisor::handle_request(Client& client, std::string_view line) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    auto request = parse_json(line);
    if (!request) {
        send(client, error_reply("invalid request: " + request.error()));
        return;
    }
    const JsonValue* op = request->find("op");
    if (op == nullptr || !op->is_string()) {
        send(client, error_reply("invalid request: no \"op\""));
        return;
    }
    const std::string& name = op->as_string();
    if (name == "status") {
        send(client, status_json(m_status));
    } else if (name == "stop") {
        // Answered when the unit has stopped, just before gitvisor-exec exits. "restart": gitvisord starts
        // the unit again right after (RestartKillSignal=, RuntimeDirectoryPreserve=restart).
        client.wants_stop = true;
        if (const JsonValue* restart = request->find("restart"); restart != nullptr && restart->as_bool())
            m_stopping_for_restart = true;
        request_stop();
    } else if (name == "kill") {
        send(client, handle_kill(*request));
    } else if (name == "health") {
        start_health_check(client, *request);
    } else if (name == "reload") {
        if (m_phase != Phase::Running && m_phase != Phase::Exited) {
            send(client, error_reply(std::string("cannot reload while ") + to_string(m_status.state)));
        } else if (m_spec.exec_reload.empty()) {
            send(client, error_reply("the unit has no ExecReload="));
        } else {
            client.wants_reload = true;
            enter_reload();
        }
    } else {
        send(client, error_reply("unknown op '" + name + "'"));
    }
}

std::string Supervisor::handle_kill(const JsonValue& request) {
    const JsonValue* signal = request.find("signal");
    if (signal == nullptr || !signal->is_integer() || signal->as_integer() < 1 || signal->as_integer() > 64) {
        return error_reply("\"signal\" must be a signal number");
    }
    const int sig = static_cast<int>(signal->as_integer());
    const JsonValue* whom = request.find("whom");
    const std::string target = whom != nullptr && whom->is_string() ? whom->as_string() : "all";
    if (target == "main") {
        if (m_main.pid <= 0) return error_reply("no main process");
        if (::kill(m_main.pid, sig) != 0) return error_reply(std::strerror(errno));
        return ok_reply();
    }
    if (target != "all") return error_reply("\"whom\" must be \"main\" or \"all\"");
    // Every process of the unit, main and control processes included, once each.
    return m_killer.signal_all(sig) ? ok_reply() : error_reply("no process to signal");
}

void Supervisor::finish_reload(bool ok, const std::string& error) {
    for (Client& client : m_clients) {
        if (!client.wants_reload || client.closed) continue;
        client.wants_reload = false;
        send(client, ok ? ok_reply() : error_reply(error));
    }
}

void Supervisor::send(Client& client, std::string_view line) {
    if (client.closed) return;
    client.out.append(line);
    client.out.push_back('\n');
    flush_client(client);
}

void Supervisor::flush_client(Client& client) {
    if (client.closed) return;
    while (!client.out.empty()) {
        const ssize_t n =
            ::send(client.fd.get(), client.out.data(), client.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {
            close_client(client);
            return;
        }
        client.out.erase(0, static_cast<size_t>(n));
    }
    if (client.out.size() > kMaxPendingOutput) {
        close_client(client);
        return;
    }
    if (client.out.empty() && client.out.capacity() > 4096) std::string().swap(client.out);
    if (client.read_closed && client.out.empty() && !client.wants_stop && !client.wants_reload &&
        !client.wants_health) {
        close_client(client);  // answered everything it asked
        return;
    }
    update_interest(client);
}

void Supervisor::update_interest(Client& client) {
    const uint32_t events = (client.read_closed ? 0u : static_cast<uint32_t>(EPOLLIN)) |
                            (client.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
    if (events == client.events) return;
    epoll_event event{};
    event.events = events;
    event.data.u64 = (static_cast<uint64_t>(Tag::Client) << 32) | client.id;
    ::epoll_ctl(m_epoll.get(), EPOLL_CTL_MOD, client.fd.get(), &event);
    client.events = events;
}

void Supervisor::close_client(Client& client) {
    if (client.closed) return;
    ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, client.fd.get(), nullptr);
    client.fd.reset();
    client.closed = true;
}

void Supervisor::remove_closed() {
    std::erase_if(m_clients, [](const Client& client) { return client.closed; });
}

void Supervisor::publish() {
    m_status.result = m_result;
    m_status_dirty = false;
    std::string text = status_json(m_status);
    text.push_back('\n');
    if (auto written = write_file_atomically(m_status_path.dir.get(), m_status_path.name, text); !written) {
        const std::string message = "gitvisor-exec: " + m_spec.unit + ": " + written.error() + "\n";
        [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, message.data(), message.size());
    }
    if (m_clients.empty()) return;
    const std::string event = status_json(m_status, true);
    for (Client& client : m_clients) send(client, event);
}

void Supervisor::flush_status() {
    if (m_status_dirty || m_status.result != m_result) publish();
}

void Supervisor::reply_to_waiters() {
    finish_reload(false, "stopped");
    for (Client& client : m_clients) {
        if (client.wants_stop && !client.closed) send(client, ok_reply());
        client.wants_stop = false;
    }
}

void Supervisor::flush_clients_before_exit() {
    // gitvisor-exec is about to exit: give slow readers a moment (at most a second) to take their replies.
    const int64_t give_up = monotonic_usec() + 1'000'000;
    while (true) {
        std::vector<pollfd> waiting;
        for (Client& client : m_clients) {
            if (!client.closed && !client.out.empty()) waiting.push_back({client.fd.get(), POLLOUT, 0});
        }
        const int64_t left_ms = (give_up - monotonic_usec()) / 1000;
        if (waiting.empty() || left_ms <= 0) return;
        ::poll(waiting.data(), waiting.size(), static_cast<int>(left_ms));
        for (Client& client : m_clients) {
            if (!client.closed && !client.out.empty()) flush_client(client);
        }
    }
}

}  // namespace gitvisor::exec
