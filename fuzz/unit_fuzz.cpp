// libFuzzer entry: feeds arbitrary bytes to the unit-file parser and everything after it.
// The first byte picks the unit name's shape so that templates and instances are exercised too.

#include <cstddef>
#include <cstdint>
#include <string>

#include "unitfile/normalize.h"
#include "unitfile/unit_loader.h"
#include "unitfile/unit_set.h"
#include "unitfile/values.h"
#include "unitfile/words.h"

using namespace gitvisor::unitfile;

namespace {

const SpecifierContext& context() {
    static const SpecifierContext c = [] {
        SpecifierContext s = SpecifierContext::for_host("");
        s.hostname = "fuzz.example.org";
        s.short_hostname = "fuzz";
        return s;
    }();
    return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    static const char* kNames[] = {"fuzz.service", "fuzz@.service", "fuzz@a\\x2db.service", "a-b-c.service"};
    const std::string name = kNames[data[0] % 4];
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

    // The whole pipeline: a unit with itself as a drop-in, then hashing and JSON.
    LoadedUnit loaded = load_unit(name, {name, text}, {{name + ".d/x.conf", text}}, context());
    if (!loaded.masked) {
        (void)spec_hash(loaded.unit);
        (void)unit_to_json(loaded.unit);
    }
    // A tree of two units that depend on each other, for the cross-unit checks.
    UnitSetOptions options;
    options.context = context();
    (void)load_unit_set({{"x/" + name, text, false, {}}, {"other.service", text, false, {}}}, options);

    // The value parsers on the raw text.
    (void)parse_timespan(text);
    (void)parse_size(text, true);
    (void)parse_signal(text);
    (void)parse_rlimit("LimitNOFILE", text);
    (void)parse_environment_file(text);
    if (auto commands = parse_exec(text)) {
        for (const ExecCommand& c : *commands) (void)expand_exec_argv(c, {{"A", "x y"}, {"B", text}});
    }
    if (auto words = split_words(text)) {
        for (const Word& w : *words) (void)split_words(quote_word(w.text));
    }
    return 0;
}
