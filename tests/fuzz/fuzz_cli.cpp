// The command line of every tool: the first byte picks the tool, the rest,
// split at NUL bytes, is its argv. Each tool's own entry point parses it
// (with its own options and setters) and, with set_parse_only, stops there.
// Whatever the arguments, parsing ends in a run or in a UsageError whose
// message is one line: never another exception, never a crash.
#include "errors.h"
#include "fuzz_registry.h"

#include <cstdio>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    corescope::set_parse_only(true);
    // --help and --version print there.
    if (std::freopen("/dev/null", "w", stdout) == nullptr) return 1;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto& tools = fuzz::tool_mains();
    if (size == 0) return 0;
    const fuzz::ToolMain& tool = tools[data[0] % tools.size()];
    std::vector<std::string> args = {std::string(tool.name)};
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    while (!rest.empty()) {
        size_t nul = rest.find('\0');
        args.emplace_back(rest.substr(0, nul));
        rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
    }
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    try {
        int code = tool.main(static_cast<int>(args.size()), argv.data());
        if (code != corescope::exit_ok) fuzz::fail("a parse that neither ran nor threw", tool.name);
    } catch (const corescope::UsageError& e) {
        std::string_view message = e.what();
        if (message.empty()) fuzz::fail("a usage error without a message", tool.name);
        if (message.find('\n') != std::string_view::npos)
            fuzz::fail("a usage error message of more than one line", message);
    } catch (const std::exception& e) {
        fuzz::fail("an exception other than a usage error", e.what());
    }
    return 0;
}
