#pragma once
// The CLI's side of the control socket (DESIGN §7): one JSON request per line, answered by one JSON
// object per line (one, or a stream of them for `logs -f` and `events -f`). The CLI links no JSON
// library and no libgit2, so a `gitvisor status` costs little more than the round trip.

#include <functional>
#include <string>

#include "common/json_reader.h"
#include "common/result.h"

namespace gitvisor::cli {

// --socket PATH, else $GITVISOR_SOCKET, else /run/gitvisor/control.sock.
std::string socket_path(const std::string& flag);

// Sends one request line (a JSON object) and returns the response object. Errors say what failed:
// "cannot connect to gitvisord at '/run/gitvisor/control.sock': No such file or directory (is it running?)".
Result<JsonValue> call(const std::string& socket, const std::string& request);

// Sends one request line and hands every response line to `on_line` until gitvisord closes the
// connection or `on_line` returns false. Errors as call().
Result<bool> stream(const std::string& socket, const std::string& request,
                    const std::function<bool(const JsonValue&)>& on_line);

// Reading fields of a response: "" / 0 / false when absent, null or of another type.
std::string text(const JsonValue& object, std::string_view key);
int64_t number(const JsonValue& object, std::string_view key);
bool flag(const JsonValue& object, std::string_view key);
bool has_value(const JsonValue& object, std::string_view key);  // present and not null
const JsonValue& member(const JsonValue& object, std::string_view key);  // null when absent

}  // namespace gitvisor::cli
