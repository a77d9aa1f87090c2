#pragma once
// Commits to the unit repository through libgit2, as a deploy tool would, so the moment the branch moves
// can be timed precisely: the commit object is written first, then only the ref update is timed.

#include <git2/oid.h>

#include <map>
#include <string>

#include "daemon_bench_probe.h"

struct git_repository;

namespace gitvisor::bench {

class UnitRepo {
public:
    // Opens the repository (made by `gitvisor init`); throws std::runtime_error when it cannot.
    UnitRepo(const std::string& path, std::string branch);
    ~UnitRepo();
    UnitRepo(const UnitRepo&) = delete;
    UnitRepo& operator=(const UnitRepo&) = delete;

    struct Landed {
        std::string commit;           // full hex id
        Clock::time_point ref_start;  // just before the branch update began
        Clock::time_point ref_done;   // just after it returned (ref and reflog written)
    };
    // Commits a tree holding exactly `files` (file name -> text, all at the root) on top of the branch
    // tip, then moves the branch to it. Throws std::runtime_error on a libgit2 error.
    Landed commit(const std::map<std::string, std::string>& files, const std::string& message);

    // Brings the index and work tree (unless the repository is bare) to the branch tip, discarding what
    // differs: commit() moves the branch alone, and `gitvisor rollback` refuses an unclean work tree.
    void check_out_tip();

private:
    git_repository* m_repo = nullptr;
    std::string m_branch_ref;
    std::map<std::string, git_oid> m_blobs;  // text -> blob written by this run
};

}  // namespace gitvisor::bench
