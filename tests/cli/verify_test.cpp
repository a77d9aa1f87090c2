// Drives the real `gitvisor verify` on files, folders and real git repositories.

#include <catch2/catch.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "cli_support.h"

using namespace gitvisor::testing;

namespace {

const std::string kGood = "[Unit]\nDescription=good\n[Service]\nExecStart=/bin/sleep 60\n";

CommandResult verify(const std::string& args, const std::filesystem::path& cwd) {
    return run(shell_quote(gitvisor_binary()) + " verify " + args, cwd);
}

}  // namespace

TEST_CASE("verify prints compiler-style diagnostics and exits 1 on an error", "[cli]") {
    TempDir dir;
    dir.write("units/good.service", kGood);
    dir.write("units/bad.service", "[Service]\nExecStart=/bin/true\nRestart=sometimes\nFrobnicate=1\n");
    const CommandResult r = verify("units", dir.path());
    CHECK(r.exit_code == 1);
    CHECK(r.out ==
          "units/bad.service:3: error: invalid value 'sometimes' for Restart=: expected one of no, on-success, "
          "on-failure, on-abnormal, on-watchdog, on-abort, always (values are case-sensitive)\n"
          "units/bad.service:4: warning: unknown directive 'Frobnicate=' in [Service], ignoring\n");
    CHECK(r.err == "gitvisor: 2 unit(s) checked, 1 error(s), 1 warning(s)\n");

    const CommandResult good = verify("units/good.service", dir.path());
    CHECK(good.exit_code == 0);
    CHECK(good.out.empty());
}

TEST_CASE("verify applies drop-ins beside a named file", "[cli]") {
    TempDir dir;
    dir.write("web.service", "[Service]\nExecStart=/bin/a\n");
    dir.write("web.service.d/override.conf", "[Service]\nExecStart=/bin/b\n");
    const CommandResult r = verify("web.service", dir.path());
    CHECK(r.exit_code == 1);
    CHECK(r.out.starts_with("web.service.d/override.conf:2: error: Type=simple allows exactly one ExecStart="));
}

TEST_CASE("verify --json lists {file, line, severity, message}", "[cli]") {
    TempDir dir;
    dir.write("a.service", "[Service]\nExecStart=/bin/true\nNice=99\nBogus=1\n");
    const CommandResult r = verify("--json a.service", dir.path());
    CHECK(r.exit_code == 1);
    Poco::JSON::Parser parser;
    const auto list = parser.parse(r.out).extract<Poco::JSON::Array::Ptr>();
    REQUIRE(list->size() == 2);
    const auto first = list->getObject(0);
    CHECK(first->getValue<std::string>("file") == "a.service");
    CHECK(first->getValue<int>("line") == 3);
    CHECK(first->getValue<std::string>("severity") == "error");
    CHECK(first->getValue<std::string>("message").starts_with("invalid value '99' for Nice="));
    CHECK(list->getObject(1)->getValue<std::string>("severity") == "warning");
}

TEST_CASE("verify --print shows the normalised unit as JSON", "[cli]") {
    TempDir dir;
    dir.write("web.service",
              "[Service]\nExecStart=-@/usr/bin/python3 web -m http.server \"8080\"\nEnvironment=\"A=1 2\" B=3\n");
    const CommandResult r = verify("--print web.service", dir.path());
    REQUIRE(r.exit_code == 0);
    Poco::JSON::Parser parser;
    const auto unit = parser.parse(r.out).extract<Poco::JSON::Object::Ptr>();
    CHECK(unit->getValue<std::string>("name") == "web.service");
    CHECK(unit->getValue<std::string>("spec_hash").starts_with("v1:"));
    const auto service = unit->getObject("sections")->getObject("Service");
    const auto start = service->getArray("ExecStart")->getObject(0);
    CHECK(start->getValue<std::string>("path") == "/usr/bin/python3");
    CHECK(start->getValue<std::string>("prefixes") == "-@");
    const auto argv = start->getArray("argv");
    REQUIRE(argv->size() == 4);
    CHECK(argv->getElement<std::string>(0) == "web");
    CHECK(argv->getElement<std::string>(3) == "8080");
    CHECK(service->getObject("Environment")->getValue<std::string>("A") == "1 2");
}

TEST_CASE("verify --repo reads a commit, not the work tree", "[cli][git]") {
    TempDir dir;
    const std::filesystem::path repo = dir / "units";
    REQUIRE(run(git() + " init -q units", dir.path()).exit_code == 0);
    dir.write("units/web.service", kGood);
    dir.write("units/worker@.service", "[Service]\nExecStart=/bin/echo %i\n");
    std::filesystem::create_symlink("worker@.service", repo / "worker@1.service");
    REQUIRE(run(git() + " add -A && " + git() + " commit -qm 'add units'", repo).exit_code == 0);

    SECTION("a good commit") {
        const CommandResult r = verify("--repo " + shell_quote(repo.string()), dir.path());
        CHECK(r.exit_code == 0);
        CHECK(r.out.empty());
        CHECK(r.err == "gitvisor: 3 unit(s) checked, 0 error(s), 0 warning(s)\n");
    }
    SECTION("an uncommitted edit is not seen; a committed one is, at its revision") {
        dir.write("units/web.service", "[Service]\nExecStart=/bin/true\nRestart=bogus\n");
        CHECK(verify("--repo units", dir.path()).exit_code == 0);
        REQUIRE(run(git() + " commit -qam 'break web'", repo).exit_code == 0);
        const CommandResult broken = verify("--repo units", dir.path());
        CHECK(broken.exit_code == 1);
        CHECK(broken.out.starts_with("web.service:3: error: invalid value 'bogus' for Restart="));
        CHECK(verify("--repo units --commit HEAD~1", dir.path()).exit_code == 0);
    }
    SECTION("repository checks: missing dependency, cycle, duplicate names") {
        dir.write("units/a.service", "[Unit]\nRequires=missing.service\nAfter=b.service\n" + kGood.substr(kGood.find("[Service]")));
        dir.write("units/b.service", "[Unit]\nAfter=a.service\n" + kGood.substr(kGood.find("[Service]")));
        dir.write("units/sub/web.service", kGood);
        REQUIRE(run(git() + " add -A && " + git() + " commit -qm 'checks'", repo).exit_code == 0);
        const CommandResult r = verify("--repo units", dir.path());
        CHECK(r.exit_code == 1);
        CHECK(r.out ==
              "a.service:2: error: Requires= names 'missing.service', which is not in this tree: add missing.service "
              "or remove it from Requires=\n"
              "a.service:3: error: ordering cycle: a.service -> b.service -> a.service (After=/Before= must not loop)\n"
              "sub/web.service: error: duplicate unit name 'web.service': also defined by web.service (unit names "
              "must be unique)\n"
              "web.service: error: duplicate unit name 'web.service': also defined by sub/web.service (unit names "
              "must be unique)\n");
    }
    SECTION("a bare repository and an unknown revision") {
        REQUIRE(run(git() + " clone -q --bare units units.git", dir.path()).exit_code == 0);
        CHECK(verify("--repo units.git --commit main", dir.path()).exit_code == 0);
        const CommandResult r = verify("--repo units.git --commit nosuchrev", dir.path());
        CHECK(r.exit_code == 1);
        CHECK(r.err.starts_with("gitvisor: error: cannot verify 'units.git': cannot resolve 'nosuchrev': "));
    }
}

TEST_CASE("verify usage errors exit 2", "[cli]") {
    TempDir dir;
    CHECK(verify("", dir.path()).exit_code == 2);
    CHECK(verify("--frobnicate x", dir.path()).exit_code == 2);
    CHECK(verify("--repo", dir.path()).exit_code == 2);
    CHECK(verify("a.service --repo .", dir.path()).exit_code == 2);
    const CommandResult missing = verify("nothing-here.service", dir.path());
    CHECK(missing.exit_code == 1);
    CHECK(missing.err == "gitvisor: error: cannot verify 'nothing-here.service': No such file or directory\n");
    CHECK(run(shell_quote(gitvisor_binary()) + " frobnicate", dir.path()).exit_code == 2);
}

TEST_CASE("the shipped examples verify cleanly", "[cli]") {
    const CommandResult r = verify("examples/units", GITVISOR_SOURCE_DIR);
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(r.err == "gitvisor: 7 unit(s) checked, 0 error(s), 0 warning(s)\n");
}

TEST_CASE("a folder's gitvisor.ini is checked with its units", "[cli]") {
    TempDir dir;
    dir.write("web.service", "[Service]\nExecStart=/bin/true\n");
    dir.write("gitvisor.ini", "[Deploy]\nAutoRollback=maybe\n");
    const CommandResult r = verify(".", dir.path());
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("gitvisor.ini:2: error: invalid value 'maybe' for AutoRollback= in [Deploy]") != std::string::npos);
}

TEST_CASE("verify --staged checks what the next commit would record (pre-commit hook)", "[cli][git]") {
    TempDir dir;
    const std::filesystem::path repo = dir / "units";
    REQUIRE(run(git() + " init -q units", dir.path()).exit_code == 0);
    dir.write("units/web.service", kGood);
    REQUIRE(run(git() + " add web.service", repo).exit_code == 0);
    CHECK(verify("--repo . --staged", repo).exit_code == 0);

    dir.write("units/web.service", "[Service]\nExecStart=/bin/true\nType=bogus\n");
    CHECK(verify("--repo . --staged", repo).exit_code == 0);  // edited, not staged
    REQUIRE(run(git() + " add web.service", repo).exit_code == 0);
    const CommandResult r = verify("--repo . --staged", repo);
    CHECK(r.exit_code == 1);
    CHECK(r.out.starts_with("web.service:3: error: invalid value 'bogus' for Type="));

    // As a real pre-commit hook, the commit is refused.
    const std::string hook = "#!/bin/sh\nexec " + shell_quote(gitvisor_binary()) + " verify --repo . --staged\n";
    dir.write("units/.git/hooks/pre-commit", hook);
    std::filesystem::permissions(repo / ".git/hooks/pre-commit", std::filesystem::perms::owner_all);
    CHECK(run(git() + " commit -qm 'broken'", repo).exit_code != 0);
    CHECK(run("git rev-parse -q --verify HEAD", repo).exit_code != 0);  // still no commit
}

TEST_CASE("verify in a pre-receive hook rejects a push with a broken unit", "[cli][git]") {
    TempDir dir;
    REQUIRE(run(git() + " init -q --bare server.git && " + git() + " init -q work", dir.path()).exit_code == 0);
    const std::string hook =
        "#!/bin/sh\n"
        "while read old new ref; do\n"
        "  " + shell_quote(gitvisor_binary()) + " verify --repo . --commit \"$new\" || exit 1\n"
        "done\n";
    dir.write("server.git/hooks/pre-receive", hook);
    std::filesystem::permissions(dir / "server.git/hooks/pre-receive", std::filesystem::perms::owner_all);
    const std::filesystem::path work = dir / "work";
    REQUIRE(run(git() + " remote add origin ../server.git", work).exit_code == 0);

    dir.write("work/web.service", kGood);
    REQUIRE(run(git() + " add -A && " + git() + " commit -qm good", work).exit_code == 0);
    CHECK(run(git() + " push -q origin main", work).exit_code == 0);

    dir.write("work/web.service", "[Service]\nExecStart=/bin/true\nRestart=sometimes\n");
    REQUIRE(run(git() + " commit -qam broken", work).exit_code == 0);
    const CommandResult push = run(git() + " push -q origin main", work);
    CHECK(push.exit_code != 0);
    CHECK(push.err.find("web.service:3: error: invalid value 'sometimes' for Restart=") != std::string::npos);
    // The server still has the good commit.
    CHECK(run("git --git-dir=server.git log --format=%s -1 main", dir.path()).out == "good\n");
}
