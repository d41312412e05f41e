// corescope: the front end. `corescope TOOL [ARGS]` runs a tool exactly as
// its standalone executable does; `list`, `doctor` and `triage` are its own.
// Called through a link named after a tool, it is that tool (multi-call).
#include "doctor.h"
#include "export.h"
#include "flamegraph_command.h"
#include "tool.h"
#include "tool_registry.h"
#include "triage.h"
#include "version.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

namespace corescope {

const ToolEntry* find_tool(std::string_view name) {
    for (const ToolEntry& tool : all_tools())
        if (tool.name == name) return &tool;
    return nullptr;
}

namespace {

void print_usage(FILE* to) {
    std::fprintf(to, "Usage: corescope COMMAND [ARGS]\n"
                     "       corescope TOOL [ARGS]\n"
                     "Linux observability tools built on BPF CO-RE.\n\n"
                     "Commands:\n"
                     "  triage     the 60-second incident checklist in one command\n"
                     "  doctor     what this kernel can do and which tools can run here\n"
                     "  export     serve the tools' in-kernel aggregations to Prometheus\n"
                     "  flamegraph draw folded stacks (a file or stdin) as an SVG flame graph\n"
                     "  list       every tool with what it shows\n"
                     "  TOOL       run a tool (see list); TOOL --help for its options\n\n"
                     "Options:\n"
                     "  -h, --help     show this help\n"
                     "      --version  print the version\n");
}

int list_tools(int argc, char** argv) {
    bool json = false;
    for (int i = 1; i < argc; i++) {
        std::string arg = argv[i];
        if (arg == "-o" && i + 1 < argc && std::strcmp(argv[i + 1], "json") == 0) {
            json = true;
            i++;
        } else if (arg == "--json" || arg == "-o=json" || arg == "--output=json") {
            json = true;
        } else if (arg == "-o" && i + 1 < argc && std::strcmp(argv[i + 1], "text") == 0) {
            i++;
        } else {
            throw UsageError("unknown argument '" + arg + "' to list");
        }
    }
    Output out;
    for (const ToolEntry& tool : all_tools()) {
        if (json) {
            JsonObject(out.buffer())
                .string("tool", tool.name)
                .string("summary", tool.summary)
                .end_line();
        } else {
            append_padded(out.buffer(), tool.name, 16);
            out.buffer() += std::string(tool.summary) + "\n";
        }
    }
    out.flush();
    return exit_ok;
}

// The tool a name or alias names: ext4slower (an alias,
// CORESCOPE_TOOL_ALIASES "alias=tool,...") is fsslower, which reads the
// file-system type from the name it is run under.
const ToolEntry* tool_named(std::string_view self) {
    if (const ToolEntry* tool = find_tool(self)) return tool;
    std::string_view aliases = CORESCOPE_TOOL_ALIASES;
    while (!aliases.empty()) {
        std::string_view pair = aliases.substr(0, aliases.find(','));
        aliases.remove_prefix(std::min(aliases.size(), pair.size() + 1));
        size_t eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == self)
            return find_tool(pair.substr(eq + 1));
    }
    return nullptr;
}

// The tool a multi-call link names: bpf-opensnoop with -Dtool_prefix=bpf-,
// bpf-ext4slower.
const ToolEntry* tool_invoked_as(std::string self) {
    std::string_view prefix = corescope_tool_prefix;
    if (!prefix.empty() && self.size() > prefix.size() &&
        self.compare(0, prefix.size(), prefix) == 0)
        self.erase(0, prefix.size());
    return tool_named(self);
}

} // namespace

} // namespace corescope

int main(int argc, char** argv) {
    using namespace corescope;
    std::string self = invoked_name(argc, argv, "corescope");
    if (const ToolEntry* tool = tool_invoked_as(self))
        return run_tool(self.c_str(), argc, argv, tool->main);
    if (argc < 2) {
        print_usage(stderr);
        return exit_usage_error;
    }
    std::string command = argv[1];
    if (command == "-h" || command == "--help") {
        print_usage(stdout);
        return exit_ok;
    }
    if (command == "--version") {
        std::printf("corescope %s\n", corescope_version);
        return exit_ok;
    }
    if (command == "list") return run_tool("corescope list", argc - 1, argv + 1, list_tools);
    if (command == "doctor") return run_tool("corescope doctor", argc - 1, argv + 1, doctor);
    if (command == "export")
        return run_tool("corescope export", argc - 1, argv + 1, export_command);
    if (command == "flamegraph")
        return run_tool("corescope flamegraph", argc - 1, argv + 1, flamegraph_command);
    if (command == "triage")
        return run_tool("corescope triage", argc - 1, argv + 1, triage_command);
    // Named as typed: `corescope ext4slower` is ext4slower in its messages.
    if (const ToolEntry* tool = tool_named(command))
        return run_tool(command.c_str(), argc - 1, argv + 1, tool->main);
    std::fprintf(stderr, "corescope: unknown command or tool '%s'\nTry 'corescope list'.\n",
                 command.c_str());
    return exit_usage_error;
}
