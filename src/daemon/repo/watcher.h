#pragma once
// Sees new commits on the watched branch without polling (DESIGN §3): inotify on the repository's
// refs/heads folder and on the git directory itself (packed-refs, HEAD). git and libgit2 both update a ref
// by renaming a lock file over it, so folder events (create, moved-to, close-write) cover every writer.
// The callback runs on the watcher's thread; it should only enqueue work.

#include <functional>
#include <string>
#include <thread>

#include "common/result.h"

namespace gitvisor::daemon {

class RepoWatcher {
public:
    using Callback = std::function<void()>;
    RepoWatcher() = default;
    ~RepoWatcher();
    RepoWatcher(const RepoWatcher&) = delete;
    RepoWatcher& operator=(const RepoWatcher&) = delete;

    // `git_dir` ends with '/'. Calls `on_change` after each batch of ref changes.
    Result<bool> start(const std::string& git_dir, Callback on_change);
    void stop();

private:
    void loop();
    int m_inotify = -1;
    int m_git_dir_watch = -1;
    int m_wake = -1;
    Callback m_callback;
    std::thread m_thread;
};

}  // namespace gitvisor::daemon
