#pragma once
// The two shapes every control answer starts from (DESIGN §7): {"ok":true,...} and
// {"ok":false,"code":N,"error":"..."}; requests.cpp and streams.cpp build on them.

#include <Poco/JSON/Object.h>

#include <string>

namespace gitvisor::daemon {

inline Poco::JSON::Object::Ptr ok_response() {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("ok", true);
    return o;
}

inline Poco::JSON::Object::Ptr error_response(int code, const std::string& message) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("ok", false);
    o->set("code", code);
    o->set("error", message);
    return o;
}

}  // namespace gitvisor::daemon
