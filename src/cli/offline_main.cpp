// gitvisor-offline COMMAND [ARGS]: the commands of `gitvisor` that work without gitvisord (`verify`,
// `init`). `gitvisor` runs it for them; it is not meant to be called by users, but works the same.

#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/exit_codes.h"

int main(int argc, char** argv) {
    using namespace gitvisor;
    const std::vector<std::string> words(argv + 1, argv + argc);
    if (words.empty()) {
        std::cerr << "usage: gitvisor-offline verify|init [arguments] (see gitvisor help)\n";
        return kExitUsage;
    }
    const std::vector<std::string> args(words.begin() + 1, words.end());
    if (words[0] == "verify") return cli::run_verify(args, std::cout, std::cerr);
    if (words[0] == "init") return cli::run_init(args, std::cout, std::cerr);
    std::cerr << "gitvisor-offline: error: unknown command '" << words[0] << "'\n";
    return kExitUsage;
}
