// Runs this same binary as a child (corescope TOOL ARGS) and collects its
// output: doctor uses it so each tool is checked exactly as a user runs it.
#pragma once

#include <string>
#include <vector>

namespace corescope {

struct ChildResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

ChildResult run_self(const std::vector<std::string>& args, int timeout_ms);

} // namespace corescope
