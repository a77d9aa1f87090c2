// Requests answered by a stream of lines (DESIGN §5, §7): `logs` (history, then -f) and `events` (history,
// then -f). Each line is one JSON object: a log line {"unit","time","time_usec","stream","invocation","commit",
// "message"}, an event {"id","time","time_usec","kind","unit","uid","message"}, an error {"ok":false,...}
// (first and last), or the end {"end":true,"reason"} of a stream that ends by itself.

#include <poll.h>

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>

#include "common/exit_codes.h"
#include "common/time_format.h"
#include "daemon/core/daemon.h"
#include "daemon/core/responses.h"
#include "daemon/logs/log_cursor.h"
#include "daemon/logs/log_follower.h"
#include "daemon/logs/log_reader.h"
#include "unitfile/unit_name.h"

namespace gitvisor::daemon {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::string text_of(const Object::Ptr& o) {
    std::ostringstream out;
    o->stringify(out);
    return out.str();
}


Object::Ptr end_object(const std::string& reason) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("end", true);
    o->set("reason", reason);
    return o;
}

// "2026-11-25T13:20:01.123456Z".
std::string rfc3339_usec(int64_t usec) {
    const std::string seconds = format_rfc3339(usec - usec % 1'000'000);  // "...:01Z"
    std::string micros = std::to_string(usec % 1'000'000);
    micros.insert(0, 6 - micros.size(), '0');
    return seconds.substr(0, seconds.size() - 1) + "." + micros + "Z";
}

std::string unit_name_of(std::string name) {
    if (!unitfile::is_valid_unit_name(name)) name += ".service";
    return name;
}

// Invocation id -> the commit its run ran, from the runs table.
using CommitsByInvocation = std::map<std::string, std::string>;

Object::Ptr log_line_json(const std::string& unit, const logs::LogLine& line, const CommitsByInvocation& commits) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("unit", unit);
    o->set("time", rfc3339_usec(line.time_usec));
    o->set("time_usec", line.time_usec);
    o->set("stream", line.stream);
    o->set("invocation", line.invocation);
    const auto commit = commits.find(line.invocation);
    o->set("commit", commit == commits.end() ? std::string() : commit->second);
    o->set("message", line.text);
    return o;
}

constexpr int kRunsForCommits = 10000;

}  // namespace

void Daemon::record_event(const EventRecord& event) {
    const Result<int64_t> id = m_store->add_event(event);
    {
        std::lock_guard lock(m_events_mutex);
        if (id) m_last_event_id = std::max(m_last_event_id, *id);
    }
    m_events_changed.notify_all();
}

bool Daemon::handle_stream(const Object::Ptr& request, const Caller& caller, ResponseStream& stream) {
    const std::string cmd = request->optValue<std::string>("cmd", "");
    if (cmd != "logs" && cmd != "events") return false;
    EventRecord e;
    e.time_usec = realtime_usec();
    e.uid = caller.uid;
    e.kind = "request";
    e.message = cmd + (request->optValue<bool>("follow", false) ? " -f" : "");
    if (cmd == "logs" && !caller.may_change) {
        const std::string error = "permission denied: reading logs needs root or membership of the gitvisor group (uid " +
                                  std::to_string(caller.uid) + ")";
        stream.send(text_of(error_response(kExitPermissionDenied, error)));
        e.message += ": " + error;
        record_event(e);
        return true;
    }
    record_event(e);
    if (cmd == "logs") {
        stream_logs(request, caller, stream);
    } else {
        stream_events(request, caller, stream);
    }
    return true;
}

void Daemon::stream_logs(const Object::Ptr& request, const Caller&, ResponseStream& stream) {
    // The units: those named, else every unit deployed.
    std::vector<std::string> units;
    if (auto list = request->getArray("units"))
        for (size_t i = 0; i < list->size(); ++i) units.push_back(unit_name_of(list->getElement<std::string>(i)));
    if (units.empty())
        for (const UnitRecord& r : m_store->list_units()) units.push_back(r.name);
    const auto log_dir = [&](const std::string& unit) {
        return std::filesystem::path(m_options.paths.log_file(unit)).parent_path().string();
    };
    for (const std::string& unit : units) {
        std::error_code ec;
        if (!m_store->get_unit(unit) && !std::filesystem::exists(log_dir(unit), ec)) {
            stream.send(text_of(error_response(kExitNoSuchUnit, "no such unit '" + unit + "' and no log of it")));
            return;
        }
    }

    logs::LogQuery query;
    if (request->has("since_usec")) query.since_usec = request->getValue<int64_t>("since_usec");
    if (request->has("until_usec")) query.until_usec = request->getValue<int64_t>("until_usec");
    const int64_t n = request->optValue<int64_t>("n", 0);
    query.tail = n > 0 ? static_cast<size_t>(n) : 0;
    const std::string invocation = request->optValue<std::string>("invocation", "");
    const bool follow = request->optValue<bool>("follow", false);

    // Each unit's query, with "-1" (the run before the newest one in the log), "0" (the newest) resolved to
    // an id; anything else is an id already.
    std::vector<logs::LogQuery> queries;
    CommitsByInvocation commits;
    for (const std::string& unit : units) {
        logs::LogQuery q = query;
        if (!invocation.empty() && (invocation[0] == '-' || invocation == "0")) {
            const std::vector<std::string> ids = logs::log_invocations(log_dir(unit));
            const size_t back = invocation == "0" ? 0 : std::stoul(invocation.substr(1));
            if (back >= ids.size()) {
                stream.send(text_of(error_response(kExitFailure, "'" + unit + "' has no run " + invocation +
                                                                   " in its log (" + std::to_string(ids.size()) +
                                                                   " run(s) logged)")));
                return;
            }
            q.invocation = ids[ids.size() - 1 - back];
        } else {
            q.invocation = invocation;
        }
        queries.push_back(q);
        for (const RunRecord& run : m_store->runs_of(unit, kRunsForCommits)) commits.emplace(run.invocation, run.commit);
    }

    std::vector<logs::LogPosition> ends;  // per unit, where its follower starts
    if (query.tail == 0) {
        // Every line: read a block at a time and sent as it comes, so that memory does not grow with the
        // logs.
        std::vector<std::pair<std::string, std::unique_ptr<logs::LogCursor>>> cursors;
        for (size_t i = 0; i < units.size(); ++i)
            cursors.emplace_back(units[i], std::make_unique<logs::LogCursor>(log_dir(units[i]), queries[i]));
        logs::MergedCursor merged(std::move(cursors));
        while (const auto l = merged.next())
            if (!stream.send(text_of(log_line_json(l->unit, l->line, commits)))) return;
        for (size_t i = 0; i < units.size(); ++i) ends.push_back(merged.end(i));
    } else {
        // The last N: each unit's last N (bounded by N), merged, and the last N of those.
        std::vector<std::pair<std::string, std::vector<logs::LogLine>>> per_unit;
        for (size_t i = 0; i < units.size(); ++i) {
            logs::LogRead read = logs::read_log(log_dir(units[i]), queries[i]);
            ends.push_back(read.end);
            per_unit.emplace_back(units[i], std::move(read.lines));
        }
        std::vector<logs::UnitLine> merged = logs::merge_by_time(per_unit);
        if (merged.size() > query.tail)
            merged.erase(merged.begin(), merged.end() - static_cast<std::ptrdiff_t>(query.tail));
        for (const logs::UnitLine& l : merged)
            if (!stream.send(text_of(log_line_json(l.unit, l.line, commits)))) return;
    }
    if (!follow) {
        stream.send(text_of(end_object("done")));
        return;
    }

    // -f: one follower per unit, polled together with the client's socket (which tells when it leaves). New
    // lines pass the same filters, but "-1" and "0" select runs of the history only: later runs are followed.
    logs::LogQuery follow_query = query;
    follow_query.tail = 0;
    const bool run_by_id = !invocation.empty() && invocation[0] != '-' && invocation != "0";
    follow_query.invocation = run_by_id ? invocation : "";
    std::vector<std::unique_ptr<logs::LogFollower>> followers;
    for (size_t i = 0; i < units.size(); ++i) {
        std::error_code ec;
        std::filesystem::create_directories(log_dir(units[i]), ec);  // a unit that has not logged yet
        auto follower = std::make_unique<logs::LogFollower>(log_dir(units[i]), ends[i]);
        if (Result<bool> started = follower->start(); !started) {
            stream.send(text_of(error_response(
                kExitFailure, "cannot follow the log of '" + units[i] + "': " + started.error())));
            return;
        }
        followers.push_back(std::move(follower));
    }
    auto last_check = std::chrono::steady_clock::now();
    while (true) {
        std::vector<pollfd> fds;
        for (const auto& f : followers) fds.push_back({f->fd(), POLLIN, 0});
        fds.push_back({stream.fd(), POLLRDHUP, 0});
        bool more = false;  // a follower stopped reading at a batch's end: go on without waiting
        for (const auto& f : followers) more = more || f->more();
        const int ready = poll(fds.data(), fds.size(), more ? 0 : 250);
        if (ready < 0 && errno != EINTR) return;
        if (fds.back().revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return;  // client gone or server stopping
        std::vector<std::pair<std::string, std::vector<logs::LogLine>>> fresh;
        bool refresh_commits = false;
        for (size_t i = 0; i < followers.size(); ++i) {
            std::vector<logs::LogLine> lines = followers[i]->read_new();
            if (lines.empty()) continue;
            for (const logs::LogLine& l : lines)
                if (!commits.count(l.invocation)) refresh_commits = true;
            fresh.emplace_back(units[i], std::move(lines));
        }
        if (refresh_commits)
            for (const std::string& unit : units)
                for (const RunRecord& run : m_store->runs_of(unit, 20)) commits.emplace(run.invocation, run.commit);
        for (const logs::UnitLine& l : logs::merge_by_time(fresh))
            if (logs::matches(l.line, follow_query) &&
                !stream.send(text_of(log_line_json(l.unit, l.line, commits))))
                return;
        // The stream ends when every unit followed is gone: removed by a deploy, or its log folder removed.
        const auto now = std::chrono::steady_clock::now();
        if (now - last_check >= std::chrono::milliseconds(250)) {
            last_check = now;
            bool any_left = false;
            for (size_t i = 0; i < followers.size(); ++i)
                if (!followers[i]->ended() && m_store->get_unit(units[i])) any_left = true;
            if (!any_left) {
                // What was written before the removal is still sent.
                for (size_t i = 0; i < followers.size(); ++i)
                    for (const logs::LogLine& l : followers[i]->read_new())
                        if (logs::matches(l, follow_query) &&
                            !stream.send(text_of(log_line_json(units[i], l, commits))))
                            return;
                stream.send(text_of(end_object("unit removed")));
                return;
            }
        }
    }
}

void Daemon::stream_events(const Object::Ptr& request, const Caller&, ResponseStream& stream) {
    const auto event_json = [](const EventRecord& e) {
        Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        o->set("id", e.id);
        o->set("time", rfc3339_usec(e.time_usec));
        o->set("time_usec", e.time_usec);
        o->set("kind", e.kind);
        o->set("unit", e.unit);
        o->set("uid", e.uid);
        o->set("message", e.message);
        return text_of(o);
    };
    const int64_t n = request->optValue<int64_t>("n", 0);
    const bool follow = request->optValue<bool>("follow", false);
    int64_t last_id = 0;
    {
        const std::vector<EventRecord> history = n > 0 ? m_store->latest_events(static_cast<int>(n))
                                                       : m_store->events_since(0, 0);
        for (const EventRecord& e : history) {
            if (!stream.send(event_json(e))) return;
            last_id = e.id;
        }
    }
    if (!follow) {
        stream.send(text_of(end_object("done")));
        return;
    }
    while (true) {
        {
            std::unique_lock lock(m_events_mutex);
            m_events_changed.wait_for(lock, std::chrono::milliseconds(100), [&] { return m_last_event_id > last_id; });
        }
        for (const EventRecord& e : m_store->events_since(last_id, 1000)) {
            if (!stream.send(event_json(e))) return;
            last_id = e.id;
        }
        if (stream.client_gone(0)) return;
    }
}

Array::Ptr Daemon::log_tail(const std::string& unit, size_t n) {
    logs::LogQuery query;
    query.tail = n;
    const std::string dir = std::filesystem::path(m_options.paths.log_file(unit)).parent_path().string();
    CommitsByInvocation commits;
    for (const RunRecord& run : m_store->runs_of(unit, 50)) commits.emplace(run.invocation, run.commit);
    Array::Ptr lines = new Array;
    for (const logs::LogLine& l : logs::read_log(dir, query).lines) lines->add(log_line_json(unit, l, commits));
    return lines;
}

}  // namespace gitvisor::daemon
