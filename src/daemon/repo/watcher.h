#pragma once
// Sees new commits on the watched branch without polling (DESIGN §3): inotify on the folder of the
// branch's ref (refs/heads, or refs/heads/release for release/1.2) and on the git directory itself
// (packed-refs, HEAD). git and libgit2 both update a ref by renaming a lock file over it, so folder events
// (create, moved-to, close-write) cover every writer. A slow fallback also calls back every few seconds
// and watches the branch's folder again if git removed it (it prunes empty ref folders), so no update is
// missed for long. The callback runs on the watcher's thread; it should only enqueue work.

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

    // `git_dir` ends with '/'. Calls `on_change` after each batch of ref changes, and every
    // `fallback_ms` without one: a safety net for file systems whose changes inotify does not see (NFS),
    // rare enough that an idle gitvisord stays asleep.
    Result<bool> start(const std::string& git_dir, const std::string& branch, Callback on_change,
                       int fallback_ms = 60'000);
    void stop();

private:
    void loop();
    bool watch_branch_folder();
    std::string m_branch_folder;  // where the branch's loose ref lives
    std::string m_branch_file;    // its file name there
    int m_fallback_ms = 60'000;
    int m_inotify = -1;
    int m_git_dir_watch = -1;
    int m_branch_watch = -1;
    int m_wake = -1;
    Callback m_callback;
    std::thread m_thread;
};

}  // namespace gitvisor::daemon
