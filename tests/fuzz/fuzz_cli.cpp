// The command line of every tool: the first byte picks the tool, the rest,
// split at NUL bytes, is its argv. The tool runs as its executable does,
// through run_tool, and with set_parse_only stops right after parsing, so
// its own options and setters are all exercised. Whatever the arguments it
// exits 0 or, on a usage error, 2 with exactly two terminal-safe lines on
// stderr (the message, then the pointer to --help): never another exit,
// never a crash.
#include "checks.h"
#include "tool_entries.h"
#include "tool.h"

#include <cstdio>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

int stderr_copy = -1; // libFuzzer's own stderr
int captured_fd = -1; // the tool's stderr, during one input

std::string take_captured() {
    std::fflush(stderr);
    std::string text;
    off_t size = lseek(captured_fd, 0, SEEK_END);
    if (size > 0) {
        text.resize(static_cast<size_t>(size));
        if (pread(captured_fd, text.data(), text.size(), 0) != size) text.clear();
    }
    if (ftruncate(captured_fd, 0) != 0 || lseek(captured_fd, 0, SEEK_SET) != 0) text.clear();
    return text;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    corescope::set_parse_only(true);
    // --help and --version print there.
    if (std::freopen("/dev/null", "w", stdout) == nullptr) return 1;
    stderr_copy = dup(STDERR_FILENO);
    captured_fd = memfd_create("fuzz-cli-stderr", 0);
    return stderr_copy < 0 || captured_fd < 0 ? 1 : 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto& tools = tool_entries::tool_mains();
    if (size == 0) return 0;
    const tool_entries::ToolMain& tool = tools[data[0] % tools.size()];
    std::string name(tool.name);
    std::vector<std::string> args = {name};
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

    std::fflush(stderr);
    dup2(captured_fd, STDERR_FILENO);
    int code =
        corescope::run_tool(name.c_str(), static_cast<int>(args.size()), argv.data(), tool.main);
    std::string err = take_captured();
    dup2(stderr_copy, STDERR_FILENO);

    if (code == corescope::exit_ok) {
        if (!err.empty()) fuzz::fail("a successful parse that wrote to stderr", err);
        return 0;
    }
    if (code != corescope::exit_usage_error) fuzz::fail("an exit code other than 0 or 2", err);
    if (const char* wrong = fuzz::check_terminal_safe(err)) fuzz::fail(wrong, err);
    size_t newline = err.find('\n');
    if (err.rfind(name + ": ", 0) != 0 || newline == std::string::npos ||
        err.substr(newline + 1) != "Try '" + name + " --help' for more information.\n")
        fuzz::fail("a usage error that is not one message line and the --help line", err);
    return 0;
}
