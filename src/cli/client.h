#pragma once
// The CLI's side of the control socket (DESIGN §7): one JSON request, one JSON response.

#include <Poco/JSON/Object.h>

#include <string>

#include "common/result.h"

namespace gitvisor::cli {

// --socket PATH, else $GITVISOR_SOCKET, else /run/gitvisor/control.sock.
std::string socket_path(const std::string& flag);

// Sends `request` and returns the response object. Errors say what failed:
// "cannot connect to gitvisord at '/run/gitvisor/control.sock': No such file or directory (is it running?)".
Result<Poco::JSON::Object::Ptr> call(const std::string& socket, const Poco::JSON::Object::Ptr& request);

}  // namespace gitvisor::cli
