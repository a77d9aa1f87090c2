#include "unitfile/specifiers.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

using namespace gitvisor::unitfile;

namespace {

// A context with every host field set, so that tests do not depend on the machine they run on.
SpecifierContext test_context(std::string unit_name) {
    SpecifierContext context;
    context.unit_name = std::move(unit_name);
    context.hostname = "node1.example.com";
    context.short_hostname = "node1";
    context.machine_id = "0123456789abcdef0123456789abcdef";
    context.boot_id = "fedcba9876543210fedcba9876543210";
    context.kernel_release = "6.1.0-18-amd64";
    context.architecture = "x86-64";
    context.user_name = "root";
    context.uid = "0";
    context.group_name = "root";
    context.gid = "0";
    context.home = "/root";
    context.shell = "/bin/sh";
    context.fragment_path = "/etc/gitvisor/units/web.service";
    return context;
}

// The expansion of `text`, or the error prefixed with "error: " so that a failed CHECK shows it.
std::string expand(std::string_view text, const SpecifierContext& context) {
    const auto result = expand_specifiers(text, context);
    return result ? *result : "error: " + result.error();
}

bool is_lower_hex_id(const std::string& text) {
    return text.size() == 32 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

TEST_CASE("unit-name specifiers of an instance", "[specifiers]") {
    const auto context = test_context("tpl@a\\x2db.service");
    CHECK(expand("%n", context) == "tpl@a\\x2db.service");
    CHECK(expand("%N", context) == "tpl@a\\x2db");
    CHECK(expand("%p", context) == "tpl");
    CHECK(expand("%P", context) == "tpl");
    CHECK(expand("%i", context) == "a\\x2db");
    CHECK(expand("%I", context) == "a-b");
    CHECK(expand("%j", context) == "tpl");
    CHECK(expand("%J", context) == "tpl");
    CHECK(expand("%f", context) == "/a-b");
}

TEST_CASE("unit-name specifiers of a plain unit", "[specifiers]") {
    const auto context = test_context("foo-bar.service");
    CHECK(expand("%n", context) == "foo-bar.service");
    CHECK(expand("%N", context) == "foo-bar");
    CHECK(expand("%p", context) == "foo-bar");
    CHECK(expand("%P", context) == "foo/bar");
    CHECK(expand("[%i]", context) == "[]");
    CHECK(expand("[%I]", context) == "[]");
    CHECK(expand("%j", context) == "bar");
    CHECK(expand("%J", context) == "bar");
    CHECK(expand("%f", context) == "/foo/bar");

    CHECK(expand("%f", test_context("home-user.mount")) == "/home/user");
    CHECK(expand("%f", test_context("-.mount")) == "/");
    CHECK(expand("%j", test_context("plain.service")) == "plain");
}

TEST_CASE("unit-name specifiers of a template", "[specifiers]") {
    const auto context = test_context("tpl@.service");
    CHECK(expand("%n", context) == "tpl@.service");
    CHECK(expand("%N", context) == "tpl@");
    CHECK(expand("%p", context) == "tpl");
    CHECK(expand("[%i%I]", context) == "[]");
    CHECK(expand("%f", context) == "/tpl");
}

TEST_CASE("%j and %J take the last dash component of the prefix", "[specifiers]") {
    const auto context = test_context("db-node\\x2dmain@x\\x2fy.service");
    CHECK(expand("%p", context) == "db-node\\x2dmain");
    CHECK(expand("%P", context) == "db/node-main");
    CHECK(expand("%j", context) == "node\\x2dmain");
    CHECK(expand("%J", context) == "node-main");
    CHECK(expand("%I", context) == "x/y");
    CHECK(expand("%f", context) == "/x/y");

    // A prefix ending in '-' has an empty last component; that is a value, not an error.
    CHECK(expand("[%j]", test_context("foo-@x.service")) == "[]");
}

TEST_CASE("%f of the root instance is the root", "[specifiers]") {
    const auto context = test_context("fsck@-.service");
    CHECK(expand("%i", context) == "-");
    CHECK(expand("%I", context) == "/");
    CHECK(expand("%f", context) == "/");
}

TEST_CASE("host, user and directory specifiers", "[specifiers]") {
    const auto context = test_context("web.service");
    CHECK(expand("%H %l", context) == "node1.example.com node1");
    CHECK(expand("%m", context) == "0123456789abcdef0123456789abcdef");
    CHECK(expand("%b", context) == "fedcba9876543210fedcba9876543210");
    CHECK(expand("%v %a", context) == "6.1.0-18-amd64 x86-64");
    CHECK(expand("%u:%U %g:%G %h %s", context) == "root:0 root:0 /root /bin/sh");
    CHECK(expand("%t %S %C %L %E %T %V", context) == "/run /var/lib /var/cache /var/log /etc /tmp /var/tmp");
}

TEST_CASE("%y is the fragment and %Y its directory", "[specifiers]") {
    auto context = test_context("web.service");
    CHECK(expand("%y", context) == "/etc/gitvisor/units/web.service");
    CHECK(expand("%Y", context) == "/etc/gitvisor/units");
    context.fragment_path = "/web.service";
    CHECK(expand("%Y", context) == "/");
    context.fragment_path = "units//web.service";
    CHECK(expand("%Y", context) == "units");
    context.fragment_path = "web.service";
    CHECK(expand("%Y", context) == ".");
    context.fragment_path = "";
    CHECK(expand("%Y", context) == "error: specifier '%Y' has no value on this host");
}

TEST_CASE("specifiers inside text, and %%", "[specifiers]") {
    const auto context = test_context("backup@daily.service");
    CHECK(expand("/var/lib/%p/%i.tar", context) == "/var/lib/backup/daily.tar");
    CHECK(expand("--name=%N --host=%H", context) == "--name=backup@daily --host=node1.example.com");
    CHECK(expand("100%%", context) == "100%");
    CHECK(expand("%%i", context) == "%i");
    CHECK(expand("%%%i", context) == "%daily");
    CHECK(expand("no specifiers here", context) == "no specifiers here");
    CHECK(expand("", context) == "");
}

TEST_CASE("expand_specifiers reports errors", "[specifiers]") {
    const auto context = test_context("web.service");
    CHECK(expand("%Z", context) == "error: unknown specifier '%Z'");
    CHECK(expand("ok %q", context) == "error: unknown specifier '%q'");
    CHECK(expand("% ", context) == "error: unknown specifier '% '");
    CHECK(expand("50%", context) == "error: '%' at end of value");
    CHECK(expand("%", context) == "error: '%' at end of value");
    CHECK(expand("%%%", context) == "error: '%' at end of value");
}

TEST_CASE("a field left empty has no value", "[specifiers]") {
    auto context = test_context("web.service");
    context.machine_id.clear();
    context.runtime_dir.clear();
    CHECK(expand("%m", context) == "error: specifier '%m' has no value on this host");
    CHECK(expand("%t/web", context) == "error: specifier '%t' has no value on this host");
    CHECK(expand("%H", context) == "node1.example.com");

    // Without a valid unit name, the unit-name specifiers have no value either.
    for (const char* name : {"", "not a unit name"}) {
        context.unit_name = name;
        INFO("unit name '" << name << "'");
        CHECK(expand("%n", context) == "error: specifier '%n' has no value on this host");
        CHECK(expand("%i", context) == "error: specifier '%i' has no value on this host");
        CHECK(expand("%f", context) == "error: specifier '%f' has no value on this host");
        CHECK(expand("%H", context) == "node1.example.com");
    }
}

TEST_CASE("for_host fills what this host can tell", "[specifiers]") {
    const auto context = SpecifierContext::for_host("tpl@a\\x2db.service");
    CHECK(context.unit_name == "tpl@a\\x2db.service");
    CHECK_FALSE(context.hostname.empty());
    CHECK(context.short_hostname.find('.') == std::string::npos);
    CHECK(context.hostname.substr(0, context.short_hostname.size()) == context.short_hostname);
    CHECK((context.machine_id.empty() || is_lower_hex_id(context.machine_id)));
    CHECK((context.boot_id.empty() || is_lower_hex_id(context.boot_id)));
    CHECK_FALSE(context.kernel_release.empty());
    CHECK(context.uid == std::to_string(getuid()));
    CHECK(context.gid == std::to_string(getgid()));
    CHECK(context.runtime_dir == "/run");
    CHECK(context.fragment_path.empty());

    CHECK(expand("%I on %H as %U", context) == "a-b on " + context.hostname + " as " + context.uid);
    CHECK(expand("%t", context) == "/run");
}

TEST_CASE("specifiers of fields for_host could not fill report an error", "[specifiers]") {
    auto context = SpecifierContext::for_host("web.service");
    context.machine_id.clear();
    context.boot_id.clear();
    context.architecture.clear();
    context.home.clear();
    CHECK(expand("%m", context) == "error: specifier '%m' has no value on this host");
    CHECK(expand("%b", context) == "error: specifier '%b' has no value on this host");
    CHECK(expand("%a", context) == "error: specifier '%a' has no value on this host");
    CHECK(expand("%h", context) == "error: specifier '%h' has no value on this host");
    // for_host leaves the fragment path to the caller.
    CHECK(expand("%y", context) == "error: specifier '%y' has no value on this host");
}
