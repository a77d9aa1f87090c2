#include "unitfile/ini_reader.h"

#include <catch2/catch.hpp>

using namespace gitvisor::unitfile;

namespace {

std::vector<std::string> lines_of(const IniDocument& doc) {
    std::vector<std::string> out;
    for (const Assignment& a : doc.assignments)
        out.push_back(std::to_string(a.line) + " [" + a.section + "] " + a.key + "=" + a.value);
    return out;
}

}  // namespace

TEST_CASE("sections, comments and trimming", "[ini]") {
    const IniDocument doc = read_ini(
        "# leading comment\n"
        "[Unit]\n"
        "Description = spaced key  \n"
        "; another comment\n"
        "   # indented comment\n"
        "\n"
        "[Service]\n"
        "ExecStart=/bin/echo x # y\n"
        "ExecStart=/bin/sh -c 'a ; b'\n",
        "t.service");
    CHECK(lines_of(doc) == std::vector<std::string>{
                               "3 [Unit] Description=spaced key",
                               "8 [Service] ExecStart=/bin/echo x # y",
                               "9 [Service] ExecStart=/bin/sh -c 'a ; b'",
                           });
    CHECK(doc.diagnostics.empty());
    REQUIRE(doc.sections.size() == 2);
    CHECK(doc.sections[1].name == "Service");
    CHECK(doc.sections[1].line == 7);
}

TEST_CASE("a trailing backslash continues the line, skipping comment lines", "[ini]") {
    const IniDocument doc = read_ini(
        "[Service]\n"
        "ExecStart=/bin/echo \"quoted \\\n"
        "# a comment between the halves\n"
        "  cont\"\n"
        "Environment=A=1\n",
        "t.service");
    CHECK(lines_of(doc) == std::vector<std::string>{
                               "2 [Service] ExecStart=/bin/echo \"quoted    cont\"",
                               "5 [Service] Environment=A=1",
                           });
}

TEST_CASE("an escaped backslash at the end does not continue, a final backslash is dropped", "[ini]") {
    const IniDocument doc = read_ini("[S]\nA=x\\\\\nB=y \\", "t");
    CHECK(lines_of(doc) == std::vector<std::string>{"2 [S] A=x\\\\", "3 [S] B=y"});
}

TEST_CASE("CRLF line ends and a UTF-8 byte order mark are accepted", "[ini]") {
    const IniDocument doc = read_ini("\xEF\xBB\xBF[Unit]\r\nDescription=crlf\r\n", "t");
    CHECK(lines_of(doc) == std::vector<std::string>{"2 [Unit] Description=crlf"});
}

TEST_CASE("long lines and long section names are kept whole", "[ini]") {
    const std::string long_value(5000, 'v');
    const std::string long_section = "X-" + std::string(80, 's');
    const IniDocument doc = read_ini("[" + long_section + "]\nKey=" + long_value + "\n", "t");
    REQUIRE(doc.assignments.size() == 1);
    CHECK(doc.assignments[0].section == long_section);
    CHECK(doc.assignments[0].value == long_value);
}

TEST_CASE("structural problems are reported with their line", "[ini]") {
    const IniDocument doc = read_ini(
        "Orphan=1\n"
        "[Unit]\n"
        "no equals sign here\n"
        "[Broken\n"
        "Key:With:Colon=1\n",
        "t.service");
    std::vector<std::string> diags;
    for (const Diagnostic& d : doc.diagnostics) diags.push_back(d.format());
    CHECK(diags == std::vector<std::string>{
                       "t.service:1: warning: assignment outside of a section, ignoring",
                       "t.service:3: warning: missing '=' in 'no equals sign here', ignoring line",
                       "t.service:4: error: invalid section header '[Broken': write it as [Name] alone on its line",
                   });
    // The colon stays part of the key (inih would take it as a separator).
    CHECK(lines_of(doc) == std::vector<std::string>{"5 [Unit] Key:With:Colon=1"});
}

TEST_CASE("a NUL byte is an error, not a silent truncation", "[ini]") {
    const std::string text("[Unit]\nDescription=a\0b\n", 21);
    const IniDocument doc = read_ini(text, "t");
    REQUIRE(doc.diagnostics.size() == 1);
    CHECK(doc.diagnostics[0].line == 2);
    CHECK(doc.assignments.empty());
}
