#include "unitfile/values.h"

// The seccomp settings' values (values.h): each assignment is checked here and kept as written, one
// space between words, for gitvisor-exec to merge the assignments as systemd does.

#include <string>

#include "unitfile/sandbox_names.h"
#include "unitfile/words.h"

namespace gitvisor::unitfile {
namespace {

// The words of `text`, with a leading '~' taken off the first (`inverted` set) as systemd reads it.
Result<std::vector<std::string>> words_of(std::string_view text, bool* inverted) {
    auto words = split_words(text);
    if (!words) return Result<std::vector<std::string>>::fail(words.error());
    std::vector<std::string> out;
    *inverted = false;
    for (const Word& word : *words) {
        std::string_view w = word.text;
        if (out.empty() && !*inverted && w.starts_with("~")) {
            *inverted = true;
            w.remove_prefix(1);
        }
        if (!w.empty()) out.emplace_back(w);
    }
    return Result<std::vector<std::string>>::ok(std::move(out));
}

std::string joined(bool inverted, const std::vector<std::string>& words) {
    std::string out = inverted ? "~" : "";
    for (size_t i = 0; i < words.size(); ++i) out += (i ? " " : "") + words[i];
    return out;
}

}  // namespace

Result<std::string> parse_syscall_filter(std::string_view text) {
    bool inverted = false;
    auto words = words_of(text, &inverted);
    if (!words) return Result<std::string>::fail(words.error());
    if (words->empty()) return Result<std::string>::fail("no system call names after '~'");
    for (const std::string& word : *words) {
        const size_t colon = word.find(':');
        const std::string_view name = std::string_view(word).substr(0, colon);
        if (name.starts_with("@")) {
            if (find_syscall_group(name) == nullptr)
                return Result<std::string>::fail("unknown system call group '" + std::string(name) + "'");
        } else if (!is_syscall_name(name)) {
            return Result<std::string>::fail("'" + std::string(name) + "' is not a system call name");
        }
        if (colon == std::string::npos) continue;
        const std::string error = word.substr(colon + 1);
        if (!inverted)
            return Result<std::string>::fail("an error number ('" + word +
                                             "') only goes with a list that starts with '~'");
        if (errno_from_name(error) < 0)
            return Result<std::string>::fail("unknown error number '" + error + "' (e.g. EPERM, or 1-4095)");
    }
    return Result<std::string>::ok(joined(inverted, *words));
}

Result<std::string> parse_errno_action(std::string_view text) {
    if (text == "kill") return Result<std::string>::ok(std::string(text));
    if (errno_from_name(text) < 0)
        return Result<std::string>::fail(
            "expected an error name (EPERM, EACCES...), a number 1-4095 or kill");
    return Result<std::string>::ok(std::string(text));
}

Result<std::vector<std::string>> parse_architectures(std::string_view text) {
    auto words = split_words(text);
    if (!words) return Result<std::vector<std::string>>::fail(words.error());
    std::vector<std::string> out;
    for (const Word& word : *words) {
        if (!is_architecture_name(word.text))
            return Result<std::vector<std::string>>::fail("unknown architecture '" + word.text +
                                                          "' (native, x86-64, arm64, ...)");
        out.push_back(word.text);
    }
    return Result<std::vector<std::string>>::ok(std::move(out));
}

Result<std::string> parse_address_families(std::string_view text) {
    if (text == "none") return Result<std::string>::ok(std::string(text));
    bool inverted = false;
    auto words = words_of(text, &inverted);
    if (!words) return Result<std::string>::fail(words.error());
    if (words->empty()) return Result<std::string>::fail("no address families after '~'");
    for (const std::string& word : *words) {
        if (address_family_from_name(word) < 0)
            return Result<std::string>::fail("unknown address family '" + word + "' (e.g. AF_UNIX, AF_INET)");
    }
    return Result<std::string>::ok(joined(inverted, *words));
}

Result<std::string> parse_namespaces(std::string_view text) {
    // yes: no namespace may be made ("" allows none); no: any may ("~" forbids none).
    if (auto b = parse_bool(text)) return Result<std::string>::ok(*b ? "" : "~");
    bool inverted = false;
    auto words = words_of(text, &inverted);
    if (!words) return Result<std::string>::fail(words.error());
    for (const std::string& word : *words) {
        if (namespace_flag_from_name(word) == 0)
            return Result<std::string>::fail("unknown namespace type '" + word +
                                             "' (cgroup, ipc, net, mnt, pid, user, uts)");
    }
    return Result<std::string>::ok(joined(inverted, *words));
}

}  // namespace gitvisor::unitfile
