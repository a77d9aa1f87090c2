// gitvisor verify: checks unit files offline, from folders or from a commit, and prints compiler-style
// diagnostics (usable as a git pre-commit or pre-receive hook).

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "common/exit_codes.h"
#include "common/json.h"
#include "repo/commit_tree.h"
#include "unitfile/directives.h"
#include "unitfile/normalize.h"
#include "unitfile/unit_set.h"

namespace gitvisor::cli {
namespace {

namespace fs = std::filesystem;
using namespace gitvisor::unitfile;

struct VerifyOptions {
    std::vector<std::string> paths;
    std::optional<std::string> repo;
    std::string commit = "HEAD";
    std::optional<std::string> print;
    bool json = false;
    bool list_directives = false;
    bool staged = false;
};

std::optional<std::string> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return buffer.str();
}

std::string error_text(const std::error_code& ec) { return ec.message(); }

// Adds one file of a folder walk; `shown` is the path printed in diagnostics.
bool add_file(const fs::path& path, const std::string& shown, std::vector<TreeFile>& files, std::ostream& err) {
    std::error_code ec;
    TreeFile f;
    f.path = shown;
    if (fs::is_symlink(fs::symlink_status(path, ec))) {
        f.is_symlink = true;
        f.symlink_target = fs::read_symlink(path, ec).string();
    } else if (auto text = read_file(path)) {
        f.text = std::move(*text);
    } else {
        err << "gitvisor: error: cannot read '" << shown << "': " << std::strerror(errno) << "\n";
        return false;
    }
    if (ec) {
        err << "gitvisor: error: cannot read '" << shown << "': " << error_text(ec) << "\n";
        return false;
    }
    files.push_back(std::move(f));
    return true;
}

bool is_unit_or_dropin(const fs::path& p) {
    const std::string name = p.filename().string();
    if (name.ends_with(".service")) return true;
    return name.ends_with(".conf") && p.parent_path().filename().string().ends_with(".d");
}

// Collects unit files and drop-ins from files and folders named on the command line.
// `settings_file`: set to the gitvisor.ini of a folder named (the last one that has one).
bool collect_paths(const std::vector<std::string>& paths, std::vector<TreeFile>& files, std::ostream& err,
                   std::string* settings_file = nullptr) {
    bool ok = true;
    for (const std::string& arg : paths) {
        std::error_code ec;
        const fs::path root(arg);
        const fs::file_status status = fs::status(root, ec);
        if (ec || !fs::exists(status)) {
            err << "gitvisor: error: cannot verify '" << arg << "': No such file or directory\n";
            ok = false;
            continue;
        }
        if (fs::is_directory(status)) {
            std::vector<fs::path> found;
            for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
                 it.increment(ec))
                if (is_unit_or_dropin(it->path())) found.push_back(it->path());
            if (ec) {
                err << "gitvisor: error: cannot read '" << arg << "': " << error_text(ec) << "\n";
                ok = false;
            }
            std::sort(found.begin(), found.end());
            for (const fs::path& p : found) ok = add_file(p, p.string(), files, err) && ok;
            // The folder's gitvisor.ini: the repository settings its units would deploy with.
            if (const fs::path ini = root / kRepoSettingsFile; fs::is_regular_file(ini, ec)) {
                ok = add_file(ini, ini.string(), files, err) && ok;
                if (settings_file) *settings_file = ini.string();
            }
            continue;
        }
        ok = add_file(root, arg, files, err) && ok;
        // The drop-ins that apply to this unit, from folders beside it; and the template of an instance link.
        const fs::path dir = root.parent_path().empty() ? fs::path(".") : root.parent_path();
        const std::string name = root.filename().string();
        for (const std::string& dropin_dir : dropin_dirs_for(name)) {
            const fs::path d = dir / dropin_dir;
            if (!fs::is_directory(d, ec)) continue;
            std::vector<fs::path> confs;
            for (const auto& entry : fs::directory_iterator(d, ec))
                if (entry.path().extension() == ".conf") confs.push_back(entry.path());
            std::sort(confs.begin(), confs.end());
            for (const fs::path& c : confs) ok = add_file(c, (root.parent_path() / dropin_dir / c.filename()).string(), files, err) && ok;
        }
        if (fs::is_symlink(fs::symlink_status(root, ec))) {
            const fs::path target = dir / fs::read_symlink(root, ec).filename();
            if (!ec && fs::exists(target)) ok = add_file(target, (root.parent_path() / target.filename()).string(), files, err) && ok;
        }
    }
    return ok;
}

void print_diagnostics(const Diagnostics& diagnostics, bool json, std::ostream& out) {
    if (!json) {
        for (const Diagnostic& d : diagnostics) out << d.format() << "\n";
        return;
    }
    out << "[";
    for (size_t i = 0; i < diagnostics.size(); ++i) {
        const Diagnostic& d = diagnostics[i];
        out << (i ? ",\n " : "") << "{\"file\":" << json_quote(d.file) << ",\"line\":" << d.line
            << ",\"severity\":" << json_quote(severity_name(d.severity)) << ",\"message\":" << json_quote(d.message)
            << "}";
    }
    out << "]\n";
}

int usage(std::ostream& err, const std::string& problem) {
    err << "gitvisor: error: " << problem << "\n"
        << "usage: gitvisor verify [--json] PATH...\n"
        << "       gitvisor verify [--json] --repo PATH [--commit REV | --staged]\n"
        << "       gitvisor verify --print FILE\n"
        << "       gitvisor verify --list-directives\n";
    return kExitUsage;
}

std::optional<VerifyOptions> parse_args(const std::vector<std::string>& args, std::ostream& err, int& code) {
    VerifyOptions o;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* flag) -> std::optional<std::string> {
            if (i + 1 >= args.size()) {
                code = usage(err, std::string(flag) + " needs a value");
                return std::nullopt;
            }
            return args[++i];
        };
        if (a == "--json") {
            o.json = true;
        } else if (a == "--staged") {
            o.staged = true;
        } else if (a == "--list-directives") {
            o.list_directives = true;
        } else if (a == "--repo" || a == "--commit" || a == "--print") {
            std::optional<std::string> v = value(a.c_str());
            if (!v) return std::nullopt;
            if (a == "--repo") {
                o.repo = *v;
            } else if (a == "--print") {
                o.print = *v;
            } else {
                o.commit = *v;
            }
        } else if (a.starts_with("--repo=")) {
            o.repo = a.substr(7);
        } else if (a.starts_with("--commit=")) {
            o.commit = a.substr(9);
        } else if (a.starts_with("-") && a != "-") {
            code = usage(err, "unknown option '" + a + "'");
            return std::nullopt;
        } else {
            o.paths.push_back(a);
        }
    }
    if (o.staged && !o.repo) {
        code = usage(err, "--staged needs --repo");
        return std::nullopt;
    }
    const int modes = (o.repo ? 1 : 0) + (o.print ? 1 : 0) + (o.list_directives ? 1 : 0) + (o.paths.empty() ? 0 : 1);
    if (modes != 1) {
        code = usage(err, modes == 0 ? "nothing to verify" : "give paths, --repo, --print or --list-directives, not several");
        return std::nullopt;
    }
    return o;
}

int summarise(const UnitSet& set, bool json, std::ostream& out, std::ostream& err) {
    print_diagnostics(set.diagnostics, json, out);
    size_t errors = 0, warnings = 0;
    for (const Diagnostic& d : set.diagnostics) (d.severity == Severity::Error ? errors : warnings)++;
    if (!json)
        err << "gitvisor: " << set.units.size() + set.templates.size() << " unit(s) checked, " << errors
            << " error(s), " << warnings << " warning(s)\n";
    return errors ? kExitFailure : kExitSuccess;
}

}  // namespace

int run_verify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    int code = kExitUsage;
    const std::optional<VerifyOptions> options = parse_args(args, err, code);
    if (!options) return code;
    if (options->list_directives) {
        out << render_directives_markdown();
        return kExitSuccess;
    }
    UnitSetOptions set_options;
    set_options.context = SpecifierContext::for_host("");
    std::vector<TreeFile> files;

    if (options->repo) {
        Result<repo::CommitTree> tree = options->staged ? repo::read_staged_tree(*options->repo)
                                                        : repo::read_commit_tree(*options->repo, options->commit);
        if (!tree) {
            err << "gitvisor: error: cannot verify '" << *options->repo << "': " << tree.error() << "\n";
            return kExitFailure;
        }
        set_options.repository_checks = true;
        return summarise(load_unit_set(tree->files, set_options), options->json, out, err);
    }

    set_options.repository_checks = false;
    const std::vector<std::string> paths = options->print ? std::vector<std::string>{*options->print} : options->paths;
    if (!collect_paths(paths, files, err, &set_options.settings_file)) return kExitFailure;
    UnitSet set = load_unit_set(files, set_options);
    if (!options->print) return summarise(set, options->json, out, err);

    print_diagnostics(set.diagnostics, false, err);
    const std::string wanted = fs::path(*options->print).filename().string();
    for (const UnitList* group : {&set.units, &set.templates}) {
        for (const LoadedUnit& u : *group) {
            if (u.unit.name != wanted) continue;
            out << unit_to_json(u.unit) << "\n";
            return set.ok() ? kExitSuccess : kExitFailure;
        }
    }
    err << "gitvisor: error: cannot print '" << *options->print << "': not a loadable .service unit\n";
    return kExitFailure;
}

}  // namespace gitvisor::cli
