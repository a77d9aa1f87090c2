#include "unitfile/unit_set.h"

#include <catch2/catch.hpp>

#include "test_support.h"
#include "unitfile/normalize.h"

using namespace gitvisor::unitfile;
using Strings = std::vector<std::string>;

namespace {

TreeFile file(std::string path, std::string text) { return {std::move(path), std::move(text), false, {}, {}}; }
TreeFile symlink_file(std::string path, std::string target) { return {std::move(path), {}, true, std::move(target), {}}; }

UnitSet load_set(const std::vector<TreeFile>& files, bool repository_checks = true) {
    UnitSetOptions o;
    o.context = testing::fixed_context();
    o.repository_checks = repository_checks;
    return load_unit_set(files, o);
}

Strings names(const UnitList& units) {
    Strings out;
    for (const LoadedUnit& u : units) out.push_back(u.unit.name);
    return out;
}

Strings messages(const UnitSet& set) {
    Strings out;
    for (const Diagnostic& d : set.diagnostics) out.push_back(d.format());
    return out;
}

const std::string kSimple = "[Service]\nExecStart=/bin/sleep infinity\n";

}  // namespace

TEST_CASE("units are the .service files of the tree, in any folder", "[unit_set]") {
    const UnitSet set = load_set({file("a.service", kSimple), file("team/b.service", kSimple),
                                  file("README.md", "x"), file("gitvisor.ini", "[Deploy]\n")});
    CHECK(set.ok());
    CHECK(names(set.units) == Strings{"a.service", "b.service"});
}

TEST_CASE("two files with one unit name are an error at both", "[unit_set]") {
    const UnitSet set = load_set({file("a/web.service", kSimple), file("b/web.service", kSimple)});
    CHECK(messages(set) == Strings{
                               "a/web.service: error: duplicate unit name 'web.service': also defined by "
                               "b/web.service (unit names must be unique)",
                               "b/web.service: error: duplicate unit name 'web.service': also defined by "
                               "a/web.service (unit names must be unique)",
                           });
    CHECK(set.units.empty());
}

TEST_CASE("template instances come from symlinks to the template", "[unit_set]") {
    const UnitSet set = load_set({
        file("worker@.service", "[Service]\nExecStart=/usr/bin/worker --queue %i\n"),
        symlink_file("worker@fast.service", "worker@.service"),
        symlink_file("worker@slow.service", "./worker@.service"),
        symlink_file("other.service", "worker@.service"),
        symlink_file("gone.service", "/dev/null"),
    });
    CHECK(names(set.units) == Strings{"worker@fast.service", "worker@slow.service"});
    CHECK(names(set.templates) == Strings{"worker@.service"});
    CHECK(set.masked == Strings{"gone.service"});
    REQUIRE(set.units.size() == 2);
    const auto& argv = set.units[0].unit.get<std::vector<ExecCommand>>("Service", "ExecStart")->at(0).argv;
    CHECK(argv == Strings{"/usr/bin/worker", "--queue", "fast"});
    CHECK(set.units[0].unit.file == "worker@fast.service -> worker@.service");
    CHECK(messages(set) == Strings{"other.service: warning: symlink to 'worker@.service' is an alias; gitvisor runs "
                                   "units only under their own name (instances link NAME@INSTANCE.service -> "
                                   "NAME@.service), ignoring"});
}

TEST_CASE("drop-ins: lexical order by file name, the most specific directory wins a name", "[unit_set]") {
    const UnitSet set = load_set({
        file("app-api@.service", "[Service]\nExecStart=/bin/app\nEnvironment=LEVEL=main\n"),
        symlink_file("app-api@one.service", "app-api@.service"),
        file("service.d/10-all.conf", "[Service]\nEnvironment=ALL=1 LEVEL=service.d\n"),
        file("app-.service.d/20-prefix.conf", "[Service]\nEnvironment=PREFIX=1 LEVEL=prefix\n"),
        file("app-api@.service.d/30-template.conf", "[Service]\nEnvironment=LEVEL=template\n"),
        file("app-api@one.service.d/30-template.conf", "[Service]\nEnvironment=LEVEL=instance\n"),
        file("app-api@one.service.d/05-first.conf", "[Service]\nEnvironment=FIRST=1\n"),
    });
    REQUIRE(set.ok());
    REQUIRE(set.units.size() == 1);
    const Unit& u = set.units[0].unit;
    CHECK(u.dropins == Strings{"app-api@one.service.d/05-first.conf", "service.d/10-all.conf",
                               "app-.service.d/20-prefix.conf", "app-api@one.service.d/30-template.conf"});
    CHECK(*u.get<EnvironmentMap>("Service", "Environment") ==
          EnvironmentMap{{"ALL", "1"}, {"FIRST", "1"}, {"LEVEL", "instance"}, {"PREFIX", "1"}});
}

TEST_CASE("Requires= must name a unit of the tree", "[unit_set]") {
    const UnitSet set = load_set({
        file("web.service", "[Unit]\nRequires=db.service network-online.target\nWants=cache.service\n" + kSimple),
    });
    CHECK(messages(set) == Strings{
                               "web.service:2: error: Requires= names 'db.service', which is not in this tree: add "
                               "db.service or remove it from Requires=",
                               "web.service:2: warning: Requires= names 'network-online.target', which gitvisor "
                               "does not manage, ignoring",
                           });
    // Without repository checks (verify FILE...), only the file itself is judged.
    CHECK(load_set({file("web.service", "[Unit]\nRequires=db.service\n" + kSimple)}, false).ok());
}

TEST_CASE("ordering cycles are rejected", "[unit_set]") {
    const UnitSet set = load_set({
        file("a.service", "[Unit]\nAfter=c.service\n" + kSimple),
        file("b.service", "[Unit]\nAfter=a.service\n" + kSimple),
        file("c.service", "[Unit]\nBefore=d.service\nAfter=b.service\n" + kSimple),
        file("d.service", kSimple),
    });
    REQUIRE(messages(set).size() == 1);
    CHECK(messages(set)[0] ==
          "a.service:2: error: ordering cycle: a.service -> b.service -> c.service -> a.service (After=/Before= must "
          "not loop)");
    // Requires= without ordering is no cycle (systemd starts both in parallel).
    CHECK(load_set({file("a.service", "[Unit]\nRequires=b.service\n" + kSimple),
                    file("b.service", "[Unit]\nRequires=a.service\n" + kSimple)})
              .ok());
}

TEST_CASE("drop-in directories for a name", "[unit_set]") {
    CHECK(dropin_dirs_for("foo-bar-baz.service") ==
          Strings{"service.d", "foo-.service.d", "foo-bar-.service.d", "foo-bar-baz.service.d"});
    CHECK(dropin_dirs_for("web@2.service") == Strings{"service.d", "web@.service.d", "web@2.service.d"});
}

TEST_CASE("with a cache, a load reuses the units whose files did not change", "[unit_set]") {
    UnitCache cache;
    UnitSetOptions o;
    o.context = testing::fixed_context();
    o.cache = &cache;
    const std::vector<TreeFile> first = {file("a.service", kSimple), file("b.service", kSimple + "Nice=5\n"),
                                         file("b.service.d/x.conf", "[Service]\nNice=7\n"),
                                         file("t@.service", kSimple), symlink_file("t@1.service", "t@.service")};
    const UnitSet one = load_unit_set(first, o);
    REQUIRE(one.ok());
    CHECK(cache.units.size() == 4);  // a, b, the template, its instance
    for (const LoadedUnit& u : one.units) CHECK(u.spec_hash == spec_hash(u.unit));

    // Unchanged: the same units and hashes as a load without cache.
    const UnitSet again = load_unit_set(first, o);
    const UnitSet fresh = load_set(first);
    REQUIRE(again.units.size() == fresh.units.size());
    for (size_t i = 0; i < fresh.units.size(); ++i) {
        CHECK(again.units[i].unit.name == fresh.units[i].unit.name);
        CHECK(again.units[i].unit.file == fresh.units[i].unit.file);
        CHECK(again.units[i].spec_hash == spec_hash(fresh.units[i].unit));
    }

    // A changed drop-in changes b; a removed unit leaves the cache; other host values load anew.
    std::vector<TreeFile> second = first;
    second[2] = file("b.service.d/x.conf", "[Service]\nNice=9\n");
    second.erase(second.begin());
    const UnitSet two = load_unit_set(second, o);
    REQUIRE(two.units.size() == 2);
    CHECK(two.units[0].unit.name == "b.service");
    CHECK(two.units[0].spec_hash != one.units[1].spec_hash);
    CHECK(*two.units[0].unit.get<int64_t>("Service", "Nice") == 9);
    CHECK(cache.units.size() == 3);
    o.context.hostname = "elsewhere";
    const UnitSet three = load_unit_set(second, o);
    CHECK(three.units.size() == 2);
    CHECK(cache.units.size() == 3);
}

TEST_CASE("gitvisor.ini at the root holds the deploy settings", "[unitset][settings]") {
    const UnitSetOptions options;
    const UnitSet plain = load_unit_set({{"web.service", "[Service]\nExecStart=/bin/true\n", false, "", ""}}, options);
    CHECK(plain.ok());
    CHECK(plain.settings.deploy.timeout_usec == 60'000'000);
    CHECK_FALSE(plain.settings.deploy.auto_rollback);
    CHECK(plain.settings.deploy.effective_min_ready_usec() == 0);

    const UnitSet set = load_unit_set({{"gitvisor.ini", "[Deploy]\nTimeout=2min\nAutoRollback=yes\n", false, "", ""},
                                       {"web.service", "[Service]\nExecStart=/bin/true\n", false, "", ""}},
                                      options);
    CHECK(set.ok());
    CHECK(set.settings.deploy.timeout_usec == 120'000'000);
    CHECK(set.settings.deploy.auto_rollback);
    CHECK(set.settings.deploy.effective_min_ready_usec() == 1'000'000);

    const UnitSet bad = load_unit_set({{"gitvisor.ini", "[Deploy]\nAutoRollback=maybe\nTimeout=0\nRetries=3\n[Other]\n",
                                        false, "", ""}},
                                      options);
    CHECK_FALSE(bad.ok());
    std::vector<std::string> m;
    for (const Diagnostic& d : bad.diagnostics) m.push_back(d.format());
    REQUIRE(m.size() == 4);
    CHECK(m[0].starts_with("gitvisor.ini:2: error: invalid value 'maybe' for AutoRollback= in [Deploy]"));
    CHECK(m[1] == "gitvisor.ini:3: error: invalid value '0' for Timeout= in [Deploy]: must be a finite time above 0");
    CHECK(m[2].starts_with("gitvisor.ini:4: warning: unknown setting 'Retries=' in [Deploy]"));
    CHECK(m[3] == "gitvisor.ini:5: warning: unknown section [Other], ignoring");
}
