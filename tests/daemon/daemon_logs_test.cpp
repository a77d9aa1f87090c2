// Logs and events through the real gitvisord: what units print is in `gitvisor logs`, with deploy markers,
// filters and -f across rotation, restarts and removal; `gitvisor events` tells what happened.

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "daemon_fixture.h"

using namespace gitvisor::testing;

namespace {

bool is_root() { return geteuid() == 0; }

const std::string kAsNobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";

// A command run in the background with its output in a file; killed and reaped on every exit path.
class Background {
public:
    Background(const std::string& command, const std::filesystem::path& out) : m_out(out) {
        m_pid = fork();
        if (m_pid == 0) {
            setpgid(0, 0);
            execl("/bin/sh", "sh", "-c", ("exec " + command + " >" + shell_quote(out.string()) + " 2>&1").c_str(),
                  nullptr);
            _exit(127);
        }
    }
    ~Background() {
        if (m_pid <= 0) return;
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    std::string output() const { return slurp(m_out); }
    // The exit code once it ended by itself, else nullopt (it is still running).
    std::optional<int> exited() {
        if (m_pid <= 0) return m_code;
        int status = 0;
        if (waitpid(m_pid, &status, WNOHANG) != m_pid) return std::nullopt;
        m_pid = 0;
        m_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return m_code;
    }
    void interrupt() const { kill(m_pid, SIGINT); }

private:
    pid_t m_pid = 0;
    std::optional<int> m_code;
    std::filesystem::path m_out;
};

std::vector<Poco::JSON::Object::Ptr> json_lines(const std::string& text) {
    std::vector<Poco::JSON::Object::Ptr> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] != '{') continue;
        Poco::JSON::Parser parser;
        out.push_back(parser.parse(line).extract<Poco::JSON::Object::Ptr>());
    }
    return out;
}

std::string head_commit(const DaemonFixture& f) {
    const CommandResult r = run("git rev-parse HEAD", f.repo);
    return r.out.substr(0, 40);
}

}  // namespace

TEST_CASE("logs: lines with time, stream and invocation, a marker per deploy, -n, --invocation, --since, --json",
          "[daemon][logs]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    chmod(f.dir.path().c_str(), 0755);  // so that nobody reaches the socket
    f.start_daemon();
    f.write_unit("talk.service",
                 "[Service]\nExecStart=/bin/sh -c 'echo one; echo two >&2; exec sleep 1000'\n");
    f.commit("add talk");
    const std::string first_commit = head_commit(f);
    REQUIRE(eventually([&] {
        const std::string out = f.cli("logs talk").out;
        return out.find(": one\n") != std::string::npos && out.find(": two\n") != std::string::npos;
    }));

    const CommandResult text = f.cli("logs talk");
    INFO(text.out << text.err);
    CHECK(text.exit_code == 0);
    // The deploy's marker first, then the lines (stdout and stderr are two pipes: their order may vary).
    const std::regex marker_line("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z talk\\.service: -- deployed " +
                                 first_commit.substr(0, 7) + ": add talk --\n");
    CHECK(std::regex_search(text.out, marker_line));
    CHECK(std::regex_search(text.out, std::regex("\n\\S+Z talk\\.service: one\n")));
    CHECK(std::regex_search(text.out, std::regex("\n\\S+Z talk\\.service\\[stderr\\]: two\n")));

    const CommandResult json = f.cli("--json logs talk");
    const auto lines = json_lines(json.out);
    REQUIRE(lines.size() == 3);
    std::map<std::string, std::string> stream_of;
    for (const auto& l : lines) {
        CHECK(l->getValue<std::string>("unit") == "talk.service");
        CHECK(l->getValue<std::string>("commit") == first_commit);
        CHECK(l->getValue<std::string>("invocation").size() == 32);
        CHECK(l->has("time"));
        stream_of[l->getValue<std::string>("message")] = l->getValue<std::string>("stream");
    }
    CHECK(lines[0]->getValue<std::string>("stream") == "marker");
    CHECK(stream_of["one"] == "stdout");
    CHECK(stream_of["two"] == "stderr");
    const std::string first_invocation = lines[1]->getValue<std::string>("invocation");
    CHECK(f.status_json("talk")->getValue<std::string>("invocation") == first_invocation);

    // -n counts from the end.
    const auto last_one = json_lines(f.cli("--json logs talk -n 1").out);
    REQUIRE(last_one.size() == 1);
    CHECK(last_one[0]->getValue<std::string>("message") == lines.back()->getValue<std::string>("message"));

    // A changed unit: a new run, its own marker and commit; --invocation -1 is the previous run.
    f.write_unit("talk.service", "[Service]\nExecStart=/bin/sh -c 'echo second version; exec sleep 1000'\n");
    f.commit("talk differently");
    const std::string second_commit = head_commit(f);
    REQUIRE(eventually([&] { return f.cli("logs talk").out.find("second version") != std::string::npos; }));
    const auto all = json_lines(f.cli("--json logs talk").out);
    const auto marker = std::find_if(all.begin(), all.end(), [](const auto& l) {
        return l->template getValue<std::string>("message").find("talk differently") != std::string::npos;
    });
    REQUIRE(marker != all.end());
    CHECK((*marker)->getValue<std::string>("message") == "-- deployed " + second_commit.substr(0, 7) + ": talk differently --");
    CHECK(all.back()->getValue<std::string>("commit") == second_commit);
    const auto previous = json_lines(f.cli("--json logs talk --invocation -1").out);
    REQUIRE_FALSE(previous.empty());
    for (const auto& l : previous) CHECK(l->getValue<std::string>("invocation") == first_invocation);

    // --since: from the second deploy's marker on.
    const std::string since = (*marker)->getValue<std::string>("time");
    const auto recent = json_lines(f.cli("--json logs talk --since " + since).out);
    REQUIRE_FALSE(recent.empty());
    CHECK(recent.front()->getValue<std::string>("stream") == "marker");
    CHECK(recent.size() == static_cast<size_t>(all.end() - marker));
    CHECK(f.cli("logs talk --since soon").exit_code == 2);

    // status ends with the last log lines (for root and the gitvisor group).
    const CommandResult status = f.cli("status talk");
    CHECK(status.out.find("talk.service: second version") != std::string::npos);

    // Anyone else: no logs (exit 5), and status without them.
    const std::string cli = shell_quote(gitvisor_binary()) + " --socket " + shell_quote((f.dir / "run/control.sock").string());
    const CommandResult refused = run(kAsNobody + cli + " logs talk", f.dir.path());
    CHECK(refused.exit_code == 5);
    CHECK(refused.err.find("permission denied") != std::string::npos);
    const CommandResult other_status = run(kAsNobody + cli + " status talk", f.dir.path());
    CHECK(other_status.exit_code == 0);
    CHECK(other_status.out.find("second version") == std::string::npos);
    CHECK(f.cli("logs nothing").exit_code == 4);
}

TEST_CASE("logs -f: every line once, across rotation and a restart, ending when the unit is removed",
          "[daemon][logs]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    // About 20 bytes of text a line: a 4 KiB log rotates every few dozen lines.
    f.write_unit("count.service",
                 "[Service]\nExecStart=/bin/sh -c 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo \"n $i\"; "
                 "sleep 0.002; done; exec sleep 1000'\n[X-Gitvisor]\nLogMaxBytes=4K\nLogMaxFiles=3\n");
    f.commit("add count");
    REQUIRE(eventually([&] { return f.state("count") == "active/running"; }));
    Background follow(shell_quote(gitvisor_binary()) + " --socket " +
                          shell_quote((f.dir / "run/control.sock").string()) + " --json logs -f count",
                      f.dir / "follow.out");
    const auto numbers_by_invocation = [&] {
        std::map<std::string, std::vector<long>> out;
        for (const auto& l : json_lines(follow.output())) {
            const std::string message = l->getValue<std::string>("message");
            if (message.rfind("n ", 0) == 0) out[l->getValue<std::string>("invocation")].push_back(std::stol(message.substr(2)));
        }
        return out;
    };
    const auto highest = [&] {
        long top = 0;
        for (const auto& [inv, numbers] : numbers_by_invocation())
            if (!numbers.empty()) top = std::max(top, numbers.back());
        return top;
    };
    REQUIRE(eventually([&] { return highest() >= 600; }, 30));
    // The log rotated (several times) while followed; three rotated files at most are kept.
    const std::filesystem::path log_dir = f.dir / "state/logs/count.service";
    CHECK(std::filesystem::exists(log_dir / "current.1"));
    CHECK(std::filesystem::exists(log_dir / "current.3"));
    CHECK_FALSE(std::filesystem::exists(log_dir / "current.4"));

    REQUIRE(f.cli("restart count").exit_code == 0);
    REQUIRE(eventually([&] { return numbers_by_invocation().size() == 2 && highest() >= 100; }, 30));
    const auto by_invocation = numbers_by_invocation();
    for (const auto& [inv, numbers] : by_invocation) {
        INFO("invocation " << inv << ": " << numbers.size() << " lines");
        REQUIRE_FALSE(numbers.empty());
        // Consecutive: nothing lost, nothing twice, in order.
        bool consecutive = true;
        for (size_t i = 1; i < numbers.size(); ++i) consecutive = consecutive && numbers[i] == numbers[i - 1] + 1;
        CHECK(consecutive);
    }
    CHECK(follow.output().find("restarted by `gitvisor restart`") != std::string::npos);

    // Removing the unit ends the follow by itself.
    std::filesystem::remove(f.dir / "units/count.service");
    f.commit("remove count");
    CHECK(eventually([&] { return follow.exited().has_value(); }, 20));
    CHECK(follow.exited() == std::optional<int>(0));
}

TEST_CASE("events: deploys, unit changes and requests, from history and live with -f", "[daemon][events]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    f.write_unit("crash.service", "[Service]\nExecStart=/bin/sleep 1000\nRestart=always\nRestartSec=0\n");
    f.commit("add crash");
    REQUIRE(eventually([&] { return f.state("crash") == "active/running" && f.main_pid("crash") > 0; }));
    REQUIRE(eventually([&] { return f.cli("events").out.find("deploy: applied") != std::string::npos; }));
    const CommandResult history = f.cli("events");
    INFO(history.out);
    CHECK(history.out.find("deploy: started ") != std::string::npos);
    CHECK(history.out.find(": add crash") != std::string::npos);
    CHECK(history.out.find("unit crash.service: active (running) main pid") != std::string::npos);

    Background follow(shell_quote(gitvisor_binary()) + " --socket " +
                          shell_quote((f.dir / "run/control.sock").string()) + " --json events -f",
                      f.dir / "events.out");
    // -f starts with the last 10 events.
    REQUIRE(eventually([&] { return json_lines(follow.output()).size() >= 3; }));
    const pid_t main = f.main_pid("crash");
    kill(main, SIGKILL);
    CHECK(eventually([&] { return follow.output().find("restarted (restart 1") != std::string::npos; }));
    f.write_unit("bad.service", "[Service]\nExecStart=relative/path\n");
    f.commit("a broken unit");
    CHECK(eventually([&] { return follow.output().find("rejected ") != std::string::npos; }));
    for (const auto& e : json_lines(follow.output())) {
        CHECK(e->getValue<int64_t>("id") > 0);
        CHECK(e->has("time"));
        CHECK(e->has("kind"));
        CHECK(e->has("uid"));
    }
    // Ctrl-C ends it cleanly.
    follow.interrupt();
    CHECK(eventually([&] { return follow.exited().has_value(); }));
    CHECK(follow.exited() == std::optional<int>(0));
}

TEST_CASE("logs survive the daemon: lines written while gitvisord is down are all there after", "[daemon][logs]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon();
    f.write_unit("tick.service",
                 "[Service]\nExecStart=/bin/sh -c 'i=0; while :; do i=$((i+1)); echo \"t $i\"; sleep 0.01; done'\n");
    f.commit("add tick");
    REQUIRE(eventually([&] { return f.cli("logs tick -n 1").out.find(": t ") != std::string::npos; }));
    const auto last_number = [&] {
        const auto lines = json_lines(f.cli("--json logs tick -n 1").out);
        if (lines.empty()) return 0L;
        const std::string m = lines[0]->getValue<std::string>("message");
        return m.rfind("t ", 0) == 0 ? std::stol(m.substr(2)) : 0L;
    };
    f.stop_daemon(SIGKILL);
    const std::filesystem::path current = f.dir / "state/logs/tick.service/current";
    const auto size_before = std::filesystem::file_size(current);
    // Without a daemon the unit goes on writing to its log.
    REQUIRE(eventually([&] { return std::filesystem::file_size(current) > size_before + 2000; }));
    f.start_daemon();
    const long seen_after_restart = last_number();
    CHECK(seen_after_restart > 0);
    // Every number from 1 on, once, in order: nothing was lost while the daemon was away.
    Background follow(shell_quote(gitvisor_binary()) + " --socket " +
                          shell_quote((f.dir / "run/control.sock").string()) + " --json logs -f -n 100000 tick",
                      f.dir / "follow.out");
    REQUIRE(eventually([&] {
        const auto lines = json_lines(follow.output());
        if (lines.empty()) return false;
        const std::string m = lines.back()->getValue<std::string>("message");
        return m.rfind("t ", 0) == 0 && std::stol(m.substr(2)) > seen_after_restart + 20;
    }));
    std::vector<long> numbers;
    for (const auto& l : json_lines(follow.output())) {
        const std::string m = l->getValue<std::string>("message");
        if (m.rfind("t ", 0) == 0) numbers.push_back(std::stol(m.substr(2)));
    }
    REQUIRE_FALSE(numbers.empty());
    CHECK(numbers.front() == 1);
    bool consecutive = true;
    for (size_t i = 1; i < numbers.size(); ++i) consecutive = consecutive && numbers[i] == numbers[i - 1] + 1;
    CHECK(consecutive);
}

TEST_CASE("logs of several units are interleaved by time, and the daemon's rotation flags apply", "[daemon][logs]") {
    if (!is_root()) {
        WARN("skipped: needs root for PID namespaces and cgroups");
        return;
    }
    DaemonFixture f;
    f.start_daemon("--log-max-bytes 2K --log-max-files 2");
    const std::string loop = "[Service]\nExecStart=/bin/sh -c 'i=0; while :; do i=$((i+1)); echo \"%N $i\"; sleep 0.005; done'\n";
    f.write_unit("left.service", loop);
    f.write_unit("right.service", loop);
    f.commit("two talkers");
    const std::filesystem::path left_logs = f.dir / "state/logs/left.service";
    REQUIRE(eventually([&] { return std::filesystem::exists(left_logs / "current.2"); }, 20));
    // Rotated at 2 KiB, two old files kept.
    CHECK_FALSE(std::filesystem::exists(left_logs / "current.3"));
    CHECK(std::filesystem::file_size(left_logs / "current.1") <= 2048);

    // (Each unit keeps about 3 x 2 KiB of log, some 70 lines.)
    const auto lines = json_lines(f.cli("--json logs left right -n 60").out);
    REQUIRE(lines.size() == 60);
    std::set<std::string> units;
    bool ordered = true;
    for (size_t i = 0; i < lines.size(); ++i) {
        units.insert(lines[i]->getValue<std::string>("unit"));
        if (i > 0) ordered = ordered && lines[i - 1]->getValue<int64_t>("time_usec") <= lines[i]->getValue<int64_t>("time_usec");
    }
    CHECK(units == std::set<std::string>{"left.service", "right.service"});
    CHECK(ordered);
    // Every unit when none is named.
    CHECK(json_lines(f.cli("--json logs -n 30").out).size() == 30);

    // -f ends cleanly on Ctrl-C.
    Background follow(shell_quote(gitvisor_binary()) + " --socket " +
                          shell_quote((f.dir / "run/control.sock").string()) + " logs -f left",
                      f.dir / "follow.out");
    REQUIRE(eventually([&] { return follow.output().find("left ") != std::string::npos; }));
    follow.interrupt();
    CHECK(eventually([&] { return follow.exited().has_value(); }));
    CHECK(follow.exited() == std::optional<int>(0));
}
