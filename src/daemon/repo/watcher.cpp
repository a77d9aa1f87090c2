#include "daemon/repo/watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gitvisor::daemon {

RepoWatcher::~RepoWatcher() { stop(); }

namespace {

constexpr uint32_t kMask = IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE;

}  // namespace

bool RepoWatcher::watch_branch_folder() {
    std::error_code ec;
    std::filesystem::create_directories(m_branch_folder, ec);
    m_branch_watch = inotify_add_watch(m_inotify, m_branch_folder.c_str(), kMask);  // the same wd if watched
    return m_branch_watch >= 0;
}

Result<bool> RepoWatcher::start(const std::string& git_dir, const std::string& branch, Callback on_change,
                                int fallback_ms) {
    m_callback = std::move(on_change);
    m_fallback_ms = fallback_ms;
    const std::filesystem::path ref = std::filesystem::path(git_dir) / "refs/heads" / branch;
    m_branch_folder = ref.parent_path().string();
    m_branch_file = ref.filename().string();
    m_inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    m_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_inotify < 0 || m_wake < 0) return Result<bool>::fail(std::string("cannot use inotify: ") + std::strerror(errno));
    m_git_dir_watch = inotify_add_watch(m_inotify, git_dir.c_str(), kMask);
    if (m_git_dir_watch < 0 || !watch_branch_folder())
        return Result<bool>::fail("cannot watch '" + git_dir + "': " + std::strerror(errno));
    m_thread = std::thread([this] { loop(); });
    return Result<bool>::ok(true);
}

void RepoWatcher::stop() {
    if (m_thread.joinable()) {
        const uint64_t one = 1;
        (void)!write(m_wake, &one, sizeof one);
        m_thread.join();
    }
    if (m_inotify >= 0) close(m_inotify);
    if (m_wake >= 0) close(m_wake);
    m_inotify = m_wake = -1;
}

void RepoWatcher::loop() {
    alignas(inotify_event) char buffer[8192];
    while (true) {
        pollfd fds[2] = {{m_inotify, POLLIN, 0}, {m_wake, POLLIN, 0}};
        const int ready = poll(fds, 2, m_fallback_ms);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents) return;
        if (ready == 0) {
            watch_branch_folder();
            if (m_callback) m_callback();
            continue;
        }
        bool relevant = false;
        while (true) {
            const ssize_t n = read(m_inotify, buffer, sizeof buffer);
            if (n <= 0) break;
            for (char* p = buffer; p < buffer + n;) {
                const auto* event = reinterpret_cast<const inotify_event*>(p);
                const std::string name = event->len ? event->name : "";
                // Lock files come and go on every update; the rename over the real name is what counts. In the
                // git directory itself only packed-refs and HEAD matter (not the index, logs, FETCH_HEAD...).
                if (event->wd == m_git_dir_watch) {
                    relevant = relevant || name == "packed-refs" || name == "HEAD";
                } else if (event->wd == m_branch_watch) {
                    relevant = relevant || name == m_branch_file;
                }
                if ((event->mask & IN_IGNORED) && event->wd == m_branch_watch) {
                    // git pruned the branch's folder: watch it again (it is made anew).
                    watch_branch_folder();
                    relevant = true;
                }
                p += sizeof(inotify_event) + event->len;
            }
        }
        if (relevant && m_callback) m_callback();
    }
}

}  // namespace gitvisor::daemon
