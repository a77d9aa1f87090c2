#include "unitfile/unit_name.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <string>

using namespace gitvisor::unitfile;

TEST_CASE("parse_unit_name splits an instance name", "[unit_name]") {
    const auto name = parse_unit_name("tpl@a\\x2db.service");
    REQUIRE(name);
    CHECK(name->full == "tpl@a\\x2db.service");
    CHECK(name->prefix == "tpl");
    CHECK(name->instance == "a\\x2db");
    CHECK(name->suffix == "service");
    CHECK(name->is_instance);
    CHECK_FALSE(name->is_template);
}

TEST_CASE("parse_unit_name recognises templates and plain units", "[unit_name]") {
    const auto tmpl = parse_unit_name("getty@.service");
    REQUIRE(tmpl);
    CHECK(tmpl->prefix == "getty");
    CHECK(tmpl->instance.empty());
    CHECK(tmpl->is_template);
    CHECK_FALSE(tmpl->is_instance);

    const auto plain = parse_unit_name("systemd-journald.socket");
    REQUIRE(plain);
    CHECK(plain->prefix == "systemd-journald");
    CHECK(plain->instance.empty());
    CHECK(plain->suffix == "socket");
    CHECK_FALSE(plain->is_template);
    CHECK_FALSE(plain->is_instance);

    // Only the last '.' starts the suffix.
    const auto dotted = parse_unit_name("org.example.web.service");
    REQUIRE(dotted);
    CHECK(dotted->prefix == "org.example.web");
    CHECK(dotted->suffix == "service");

    const auto mount = parse_unit_name("tmp-waldi-foobar.mount");
    REQUIRE(mount);
    CHECK(mount->prefix == "tmp-waldi-foobar");
}

TEST_CASE("parse_unit_name accepts every known suffix", "[unit_name]") {
    for (const char* suffix : {"service", "socket", "target", "timer", "mount", "path", "slice", "scope",
                               "device", "swap", "automount"}) {
        INFO(suffix);
        CHECK(is_valid_unit_name(std::string("a.") + suffix));
    }
}

TEST_CASE("parse_unit_name accepts the characters of escaped names", "[unit_name]") {
    CHECK(is_valid_unit_name("a:b_c-d.e\\x20f.service"));
    CHECK(is_valid_unit_name("-.mount"));
    CHECK(is_valid_unit_name("web@-.service"));
    CHECK(is_valid_unit_name("0.slice"));
}

TEST_CASE("parse_unit_name rejects malformed names", "[unit_name]") {
    CHECK_FALSE(is_valid_unit_name(""));
    CHECK_FALSE(is_valid_unit_name("service"));        // no suffix
    CHECK_FALSE(is_valid_unit_name(".service"));       // empty stem
    CHECK_FALSE(is_valid_unit_name("foo."));           // empty suffix
    CHECK_FALSE(is_valid_unit_name("foo.conf"));       // unknown suffix
    CHECK_FALSE(is_valid_unit_name("foo.Service"));    // suffixes are lower case
    CHECK_FALSE(is_valid_unit_name("@.service"));      // empty prefix
    CHECK_FALSE(is_valid_unit_name("@x.service"));     // empty prefix
    CHECK_FALSE(is_valid_unit_name("a@b@c.service"));  // two '@'
    CHECK_FALSE(is_valid_unit_name("a b.service"));
    CHECK_FALSE(is_valid_unit_name("a/b.service"));
    CHECK_FALSE(is_valid_unit_name("a%i.service"));
    CHECK_FALSE(is_valid_unit_name("h\xc3\xa4.service"));
    CHECK_FALSE(is_valid_unit_name(std::string_view("a\0b.service", 11)));
    CHECK_FALSE(parse_unit_name("foo.service.d"));
}

TEST_CASE("parse_unit_name allows at most 255 characters", "[unit_name]") {
    CHECK(is_valid_unit_name(std::string(250, 'a') + ".swap"));        // 255 characters
    CHECK_FALSE(is_valid_unit_name(std::string(251, 'a') + ".swap"));  // 256
    CHECK_FALSE(is_valid_unit_name(std::string(1000, 'a') + ".service"));
}

TEST_CASE("escape_unit_component follows systemd-escape", "[unit_name]") {
    CHECK(escape_unit_component("Hall\xc3\xb6"
                                "chen, Meister") == "Hall\\xc3\\xb6chen\\x2c\\x20Meister");
    CHECK(escape_unit_component("My Container 1") == "My\\x20Container\\x201");
    CHECK(escape_unit_component("container/III") == "container-III");
    CHECK(escape_unit_component("containerb") == "containerb");
    CHECK(escape_unit_component("a-b") == "a\\x2db");
    CHECK(escape_unit_component("a\\b") == "a\\x5cb");
    CHECK(escape_unit_component("a:b_c.d") == "a:b_c.d");
    CHECK(escape_unit_component("a@b") == "a\\x40b");
    CHECK(escape_unit_component("") == "");
}

TEST_CASE("escape_unit_component escapes only a leading dot", "[unit_name]") {
    CHECK(escape_unit_component(".hidden") == "\\x2ehidden");
    CHECK(escape_unit_component("..") == "\\x2e.");
    CHECK(escape_unit_component("a.b.") == "a.b.");
}

TEST_CASE("escape_unit_component escapes control and high bytes", "[unit_name]") {
    CHECK(escape_unit_component(std::string_view("\0", 1)) == "\\x00");
    CHECK(escape_unit_component("\t\n") == "\\x09\\x0a");
    CHECK(escape_unit_component("\xff") == "\\xff");
    CHECK(escape_unit_component("%") == "\\x25");
}

TEST_CASE("escape_unit_path drops redundant slashes", "[unit_name]") {
    CHECK(escape_unit_path("/tmp//waldi/foobar/") == "tmp-waldi-foobar");
    CHECK(escape_unit_path("/home/user") == "home-user");
    CHECK(escape_unit_path("home/user") == "home-user");
    CHECK(escape_unit_path("/") == "-");
    CHECK(escape_unit_path("///") == "-");
    CHECK(escape_unit_path("") == "-");
    CHECK(escape_unit_path("/dev/disk/by-label/data") == "dev-disk-by\\x2dlabel-data");
    CHECK(escape_unit_path("/.snapshots") == "\\x2esnapshots");
    CHECK(escape_unit_path("/a/./b/.") == "a-b");
}

TEST_CASE("unescape_unit_component reverses the escape", "[unit_name]") {
    CHECK(unescape_unit_component("a\\x2db") == "a-b");
    CHECK(unescape_unit_component("Hall\\xc3\\xb6chen\\x2c\\x20Meister") ==
          "Hall\xc3\xb6"
          "chen, Meister");
    CHECK(unescape_unit_component("container-III") == "container/III");
    CHECK(unescape_unit_component("-") == "/");
    CHECK(unescape_unit_component("\\x2ehidden") == ".hidden");
    CHECK(unescape_unit_component("\\x2D\\x2d") == "--");  // either case of hex digit
    CHECK(unescape_unit_component("\\x00") == std::string(1, '\0'));
    CHECK(unescape_unit_component("") == "");
}

TEST_CASE("unescape_unit_component keeps a malformed escape as written", "[unit_name]") {
    CHECK(unescape_unit_component("\\") == "\\");
    CHECK(unescape_unit_component("a\\x") == "a\\x");
    CHECK(unescape_unit_component("a\\x2") == "a\\x2");
    CHECK(unescape_unit_component("a\\xzz") == "a\\xzz");
    CHECK(unescape_unit_component("a\\y41") == "a\\y41");
}

TEST_CASE("escape and unescape round-trip every byte", "[unit_name]") {
    std::string all_bytes;
    for (int i = 1; i < 256; ++i) {
        if (i != '/') {
            all_bytes += static_cast<char>(i);
        }
    }
    all_bytes += std::string(1, '\0');
    const std::string escaped = escape_unit_component(all_bytes);
    for (char c : escaped) {
        // Everything an escape produces is valid in a unit name, and '-' only ever stands for '/'.
        CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '_' || c == '.' || c == '\\'));
    }
    CHECK(unescape_unit_component(escaped) == all_bytes);
    CHECK(unescape_unit_component(escape_unit_component("/a/b-c/")) == "/a/b-c/");
}
