#include "unitfile/normalize.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace gitvisor::unitfile;
using namespace gitvisor::unitfile::testing;

namespace {

std::string hash_of(const std::string& text, const std::vector<UnitFileText>& dropins = {}) {
    const LoadedUnit u = load(text, "web.service", dropins);
    REQUIRE(u.ok());
    return spec_hash(u.unit);
}

const std::string kBase =
    "[Unit]\n"
    "Description=Web\n"
    "After=db.service\n"
    "[Service]\n"
    "ExecStartPre=/bin/prepare one\n"
    "ExecStartPre=/bin/prepare two\n"
    "ExecStart=/usr/bin/web --port 80\n"
    "Environment=A=1 B=2\n"
    "Restart=on-failure\n";

}  // namespace

TEST_CASE("the spec hash ignores comments, blank lines, whitespace and key order", "[normalize]") {
    const std::string base = hash_of(kBase);
    CHECK(base.starts_with("v1:"));
    CHECK(base.size() == 3 + 64);
    CHECK(hash_of("# a comment\n\n" + kBase + "\n; trailing comment\n") == base);
    CHECK(hash_of("[Unit]\nDescription =   Web\nAfter= db.service\n[Service]\nExecStartPre=/bin/prepare   one\n"
                  "ExecStartPre=/bin/prepare two\nExecStart=/usr/bin/web  --port 80\nEnvironment=A=1   B=2\n"
                  "Restart=on-failure\n") == base);
    // Different keys in another order, and Environment= assignments split differently.
    CHECK(hash_of("[Service]\nRestart=on-failure\nEnvironment=B=2\nExecStart=/usr/bin/web --port 80\n"
                  "ExecStartPre=/bin/prepare one\nEnvironment=A=1\nExecStartPre=/bin/prepare two\n"
                  "[Unit]\nAfter=db.service\nDescription=Web\n") == base);
    // A value written out that equals its default.
    CHECK(hash_of(kBase + "Type=simple\nKillSignal=TERM\nTimeoutStopSec=10s\n") == base);
    // The same settings split into a drop-in.
    CHECK(hash_of("[Unit]\nDescription=Web\nAfter=db.service\n[Service]\nExecStartPre=/bin/prepare one\n"
                  "ExecStart=/usr/bin/web --port 80\n",
                  {{"web.service.d/x.conf",
                    "[Service]\nExecStartPre=/bin/prepare two\nEnvironment=A=1 B=2\nRestart=on-failure\n"}}) == base);
}

TEST_CASE("the spec hash changes with what runs", "[normalize]") {
    const std::string base = hash_of(kBase);
    CHECK(hash_of(kBase + "RestartSec=5s\n") != base);
    CHECK(hash_of(kBase + "Type=exec\n") != base);
    // The order of repeated keys is meaningful.
    std::string swapped = kBase;
    swapped.replace(swapped.find("one"), 3, "TMP");
    swapped.replace(swapped.find("two"), 3, "one");
    swapped.replace(swapped.find("TMP"), 3, "two");
    CHECK(hash_of(swapped) != base);
    std::string changed = kBase;
    changed.replace(changed.find("--port 80"), 9, "--port 81");
    CHECK(hash_of(changed) != base);
    // Quoting that changes the words.
    std::string quoted = kBase;
    quoted.replace(quoted.find("--port 80"), 9, "\"--port 80\"");
    CHECK(hash_of(quoted) != base);
}

TEST_CASE("the JSON form shows how each line was understood", "[normalize]") {
    const LoadedUnit u = load(
        "[Service]\n"
        "ExecStart=-@/bin/echo argv0 \"a b\"\n"
        "Environment=\"X=1 2\"\n"
        "TimeoutStopSec=90\n"
        "MemoryMax=512M\n",
        "web.service");
    REQUIRE(u.ok());
    const std::string json = unit_to_json(u.unit);
    CHECK(json == "{\"name\":\"web.service\",\"spec_hash\":\"" + spec_hash(u.unit) +
                      "\",\"file\":\"web.service\",\"dropins\":[],\"sections\":{\"Service\":{"
                      "\"Environment\":{\"X\":\"1 2\"},"
                      "\"ExecStart\":[{\"path\":\"/bin/echo\",\"argv\":[\"argv0\",\"a b\"],\"prefixes\":\"-@\"}],"
                      "\"MemoryMax\":\"512M\","
                      "\"TimeoutStopSec\":\"1min 30s\"}}}");
}
