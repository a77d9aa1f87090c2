// How commits reach gitvisord: `git push` into a bare repository, commits written by libgit2, refs that
// live only in packed-refs, and commits that arrive faster than deploys run.

#include <catch2/catch.hpp>

#include <set>
#include <git2.h>

#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

std::string sleeper(const std::string& version) {
    return "[Service]\nExecStart=/bin/sleep 1000\nEnvironment=VERSION=" + version + "\n";
}

// Writes a commit whose root tree holds `files` on top of `parent` with libgit2 (not the git CLI), and moves
// refs/heads/main to it when `move_branch`. Returns the commit's id ("" with a failed check otherwise).
std::string libgit2_commit(const std::string& repo_path, const std::map<std::string, std::string>& files,
                           const std::string& parent, bool move_branch) {
    git_libgit2_init();
    git_repository* repo = nullptr;
    git_treebuilder* builder = nullptr;
    git_commit* parent_commit = nullptr;
    git_tree* tree = nullptr;
    git_signature* signature = nullptr;
    std::string out;
    git_oid parent_id, tree_id, commit_id;
    bool ok = git_repository_open(&repo, repo_path.c_str()) == 0 &&
              git_oid_fromstr(&parent_id, parent.c_str()) == 0 &&
              git_commit_lookup(&parent_commit, repo, &parent_id) == 0 &&
              git_treebuilder_new(&builder, repo, nullptr) == 0;
    for (const auto& [name, text] : files) {
        git_oid blob;
        ok = ok && git_blob_create_from_buffer(&blob, repo, text.data(), text.size()) == 0 &&
             git_treebuilder_insert(nullptr, builder, name.c_str(), &blob, GIT_FILEMODE_BLOB) == 0;
    }
    ok = ok && git_treebuilder_write(&tree_id, builder) == 0 && git_tree_lookup(&tree, repo, &tree_id) == 0 &&
         git_signature_now(&signature, "gitvisor-test", "test@gitvisor.invalid") == 0;
    const git_commit* parents[] = {parent_commit};
    ok = ok && git_commit_create(&commit_id, repo, move_branch ? "refs/heads/main" : nullptr, signature,
                                 signature, nullptr, "written by libgit2", tree, 1, parents) == 0;
    if (ok) {
        char hex[GIT_OID_HEXSZ + 1] = {};
        git_oid_tostr(hex, sizeof hex, &commit_id);
        out = hex;
    } else {
        const git_error* e = git_error_last();
        FAIL_CHECK("libgit2: " << (e && e->message ? e->message : "unknown error"));
    }
    git_signature_free(signature);
    git_tree_free(tree);
    git_treebuilder_free(builder);
    git_commit_free(parent_commit);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return out;
}

// Points refs/heads/main at `commit` by rewriting packed-refs the way git does (a lock file renamed over
// it), with no loose ref involved.
void set_packed_ref(const std::filesystem::path& git_dir, const std::string& commit) {
    std::istringstream in(slurp(git_dir / "packed-refs"));
    std::string text;
    bool found = false;
    for (std::string line; std::getline(in, line);) {
        if (line.ends_with(" refs/heads/main")) {
            line = commit + " refs/heads/main";
            found = true;
        }
        text += line + "\n";
    }
    REQUIRE(found);
    std::ofstream(git_dir / "packed-refs.lock", std::ios::binary) << text;
    std::filesystem::rename(git_dir / "packed-refs.lock", git_dir / "packed-refs");
}

// The VERSION= in the environment of a unit's main process once it runs its program ("" when it does not):
// a Type=simple unit is running once forked, and shows gitvisor-exec's environment until its execve.
std::string version_of(pid_t pid) {
    const std::string proc = "/proc/" + std::to_string(pid);
    std::string version;
    eventually([&] {
        std::error_code ec;
        if (std::filesystem::read_symlink(proc + "/exe", ec).filename() != "sleep") return false;
        std::istringstream env(slurp(proc + "/environ"));
        for (std::string entry; std::getline(env, entry, '\0');)
            if (entry.starts_with("VERSION=")) version = entry.substr(8);
        return true;
    });
    return version;
}

}  // namespace

TEST_CASE("a git push into a bare repository deploys", "[daemon][repo]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.repo = (f.dir / "units.git").string();
    REQUIRE(run(shell_quote(gitvisor_binary()) + " init --bare units.git", f.dir.path()).exit_code == 0);
    f.start_daemon();
    REQUIRE(run(git() + " clone -q units.git work", f.dir.path()).exit_code == 0);
    const std::filesystem::path work = f.dir / "work";
    const auto push = [&](const std::string& message) {
        const CommandResult r = run(git() + " add -A && " + git() + " commit -qm " + shell_quote(message) +
                                        " && " + git() + " push -q origin main",
                                    work);
        REQUIRE(r.exit_code == 0);
    };

    f.dir.write("work/web.service", sleeper("1"));
    push("add web");
    REQUIRE(eventually([&] { return f.state("web") == "active/running" && f.main_pid("web") > 0; }));
    const pid_t first = f.main_pid("web");
    CHECK(f.status_json("web")->getValue<std::string>("commit") == f.tip());

    f.dir.write("work/web.service", sleeper("2"));
    push("change web");
    REQUIRE(eventually([&] { return f.restarted("web", first); }));
    REQUIRE(version_of(f.main_pid("web")) == "2");
    CHECK(f.status_json("web")->getValue<std::string>("commit") == f.tip());
}

TEST_CASE("a bare repository owned by the user who pushes into it deploys", "[daemon][repo]") {
    if (!is_root()) {
        WARN("skipped: needs root to act as another user");
        return;
    }
    DaemonFixture f;
    // The usual set-up: the repository belongs to the user who pushes (over ssh, say); gitvisord runs as
    // root.
    chmod(f.dir.path().c_str(), 0755);
    const std::filesystem::path home = f.dir / "home";
    std::filesystem::create_directories(home);
    REQUIRE(chown(home.c_str(), 65534, 65534) == 0);
    const std::string as_pusher =
        "setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=" + shell_quote(home.string()) + " ";
    f.repo = (home / "units.git").string();
    REQUIRE(run(as_pusher + shell_quote(gitvisor_binary()) + " init --bare units.git", home).exit_code == 0);
    f.start_daemon();
    REQUIRE(run(as_pusher + git() + " clone -q units.git work", home).exit_code == 0);
    f.dir.write("home/work/web.service", sleeper("1"));
    const CommandResult pushed = run(as_pusher + git() + " add -A && " + as_pusher + git() +
                                         " commit -qm web && " + as_pusher + git() + " push -q origin main",
                                     home / "work");
    REQUIRE(pushed.exit_code == 0);
    REQUIRE(eventually([&] { return f.state("web") == "active/running"; }));
    CHECK(f.status_json("web")->getValue<std::string>("commit") == f.tip());
}

TEST_CASE("commits written by libgit2 and refs kept only in packed-refs deploy", "[daemon][repo]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    const std::filesystem::path git_dir = f.dir / "units/.git";

    // A loose ref moved by libgit2 (lock file renamed over refs/heads/main).
    const std::string first = libgit2_commit(f.repo, {{"a.service", sleeper("1")}}, f.tip(), true);
    REQUIRE(f.tip() == first);
    REQUIRE(eventually([&] { return f.main_pid("a") > 0; }));
    const pid_t a1 = f.main_pid("a");

    // The branch moves into packed-refs (the loose ref goes away): the same commit, so nothing restarts.
    REQUIRE(run(git() + " pack-refs --all", f.repo).exit_code == 0);
    REQUIRE_FALSE(std::filesystem::exists(git_dir / "refs/heads/main"));
    REQUIRE(f.tip() == first);

    // The branch moves by a rewrite of packed-refs alone.
    const std::string second = libgit2_commit(f.repo, {{"a.service", sleeper("2")}}, first, false);
    set_packed_ref(git_dir, second);
    REQUIRE(f.tip() == second);
    REQUIRE(eventually([&] { return f.restarted("a", a1); }));
    CHECK(f.status_json("a")->getValue<std::string>("commit") == second);
    REQUIRE(version_of(f.main_pid("a")) == "2");
    const pid_t a2 = f.main_pid("a");

    // After packing, a commit by the git CLI writes a loose ref again, and it is still seen.
    f.write_unit("a.service", sleeper("3"));
    f.commit("back to loose refs");
    REQUIRE(std::filesystem::exists(git_dir / "refs/heads/main"));
    REQUIRE(eventually([&] { return f.restarted("a", a2); }));
    CHECK(f.status_json("a")->getValue<std::string>("commit") == f.tip());
}

TEST_CASE("commits in quick succession end on the newest tip", "[daemon][repo]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    const std::vector<std::string> units = {"a", "b", "c"};
    constexpr int kCommits = 6;
    // Each start takes a while (ExecStartPre=), so that later commits arrive while a deploy runs.
    for (int i = 1; i <= kCommits; ++i) {
        for (const std::string& u : units)
            f.write_unit(u + ".service", sleeper(std::to_string(i)) + "ExecStartPre=/bin/sleep 0.2\n");
        f.commit("version " + std::to_string(i));
    }
    const std::string tip = f.tip();
    const auto settled = [&] {
        const Poco::Dynamic::Var s = f.cli_json("status");
        if (s.isEmpty()) return false;
        const auto o = s.extract<Poco::JSON::Object::Ptr>();
        if (o->getValue<std::string>("applied_commit") != tip) return false;
        const auto history = f.cli_json("history -n 1").extract<Poco::JSON::Array::Ptr>();
        return history->size() == 1 &&
               history->getObject(0)->getValue<std::string>("result") != "in-progress";
    };
    REQUIRE(eventually(settled, 30));

    // Every deploy finished and applied; the newest is of the tip. Each commit is in the history once: deployed,
    // or skipped for a newer one (superseded).
    const auto history = f.cli_json("history -n 100").extract<Poco::JSON::Array::Ptr>();
    INFO(f.cli("history -n 100").out);
    CHECK(history->getObject(0)->getValue<std::string>("commit") == tip);
    std::set<std::string> commits;
    for (size_t i = 0; i < history->size(); ++i) {
        const std::string result = history->getObject(i)->getValue<std::string>("result");
        CHECK((result == "applied" || result == "superseded"));
        commits.insert(history->getObject(i)->getValue<std::string>("commit"));
    }
    CHECK(history->getObject(0)->getValue<std::string>("result") == "applied");
    // The six commits and the first, empty one of `gitvisor init` (deployed at start-up).
    CHECK(commits.size() == history->size());
    CHECK(history->size() == kCommits + 1);
    const auto list = f.cli_json("list").extract<Poco::JSON::Array::Ptr>();
    REQUIRE(list->size() == units.size());
    for (size_t i = 0; i < list->size(); ++i) {
        const auto u = list->getObject(i);
        INFO(u->getValue<std::string>("name"));
        CHECK(u->getValue<std::string>("commit") == tip);
        CHECK(u->getValue<std::string>("state") == "active");
        const pid_t pid = static_cast<pid_t>(u->getValue<int64_t>("main_pid"));
        REQUIRE(pid > 0);
        CHECK(version_of(pid) == std::to_string(kCommits));
    }
    // One gitvisor-exec per unit: no start of an older commit is left behind.
    std::vector<std::string> execs;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::string cmdline = slurp(entry.path() / "cmdline");
        const std::string program = cmdline.substr(0, cmdline.find('\0'));
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        if (program.ends_with("/gitvisor-exec") && cmdline.find(f.dir.path().string()) != std::string::npos)
            execs.push_back(entry.path().filename().string() + ": " + cmdline);
    }
    INFO(Catch::Detail::stringify(execs));
    CHECK(execs.size() == units.size());
}

TEST_CASE("a branch named with a slash is watched, and a rejected tip is not recorded again", "[daemon][repo]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon("--branch release/1.x");
    REQUIRE(run(git() + " checkout -q -b release/1.x", f.repo).exit_code == 0);
    f.write_unit("a.service", sleeper("1"));
    f.commit("a on the release branch");
    REQUIRE(eventually([&] { return f.state("a") == "active/running"; }));

    // A broken commit is rejected once; other refs changing afterwards do not record it again.
    f.write_unit("b.service", "[Service]\nExecStart=relative/path\n");
    f.commit("broken");
    REQUIRE(eventually([&] { return f.cli("history -n 1").out.find("rejected") != std::string::npos; }));
    const size_t before = f.deployments();
    REQUIRE(run(git() + " branch other && " + git() + " branch -D other", f.repo).exit_code == 0);
    REQUIRE(run(git() + " tag v1", f.repo).exit_code == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(f.deployments() == before);
    CHECK(f.state("a") == "active/running");
}
