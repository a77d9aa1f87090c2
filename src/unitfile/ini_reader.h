#pragma once
// Reads the line structure of a unit file (SYSTEMD-SYNTAX.md §1) into a list of assignments.
//
// inih splits "key = value" and trims; everything systemd does that inih does not is done by the
// line reader we hand to ini_parse_stream: CRLF and BOM, '\' continuation (comment lines inside a
// continuation are skipped, the next line's leading blanks kept), exact physical line numbers,
// long lines, section names of any length, and lines without '=' (reported instead of an inih error).

#include <string>
#include <string_view>
#include <vector>

#include "unitfile/diagnostic.h"

namespace gitvisor::unitfile {

struct Assignment {
    std::string section;  // "" when the assignment precedes every section header (reported as a warning)
    std::string key;
    std::string value;
    int line = 0;  // physical line where the (possibly continued) assignment starts
};

struct SectionHeader {
    std::string name;
    int line = 0;
};

struct IniDocument {
    std::vector<SectionHeader> sections;  // in file order, repeats included
    std::vector<Assignment> assignments;  // in file order
    Diagnostics diagnostics;              // structural problems (missing '=', bad header, ...)
};

inline constexpr size_t kMaxLogicalLine = 1024 * 1024;  // systemd's LONG_LINE_MAX

IniDocument read_ini(std::string_view text, const std::string& file);

}  // namespace gitvisor::unitfile
