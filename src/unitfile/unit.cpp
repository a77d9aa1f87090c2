#include "unitfile/unit.h"

namespace gitvisor::unitfile {

const Setting* Unit::find(const std::string& section, const std::string& key) const {
    const auto s = sections.find(section);
    if (s == sections.end()) return nullptr;
    const auto k = s->second.find(key);
    return k == s->second.end() ? nullptr : &k->second;
}

}  // namespace gitvisor::unitfile
