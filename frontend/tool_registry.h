// The tools linked into the corescope front end, generated from tool_names
// in meson.build (scripts/gen_tool_registry.py).
#pragma once

#include <string_view>
#include <vector>

namespace corescope {

struct ToolEntry {
    std::string_view name;
    std::string_view summary; // the NAME line of the tool's man page
    int (*main)(int argc, char** argv);
};

const std::vector<ToolEntry>& all_tools();
const ToolEntry* find_tool(std::string_view name);

} // namespace corescope
