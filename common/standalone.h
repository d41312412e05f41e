// The one function a standalone tool's main() calls (standalone_main.cpp).
// Kept apart from tool.h, with no includes, because main() is compiled once
// per tool.
#pragma once

namespace corescope {

// Names the tool as invoked (argv[0]'s basename: ext4slower, bpf-opensnoop;
// default_name when there is none) and runs body under run_tool.
int run_standalone(const char* default_name, int argc, char** argv, int (*body)(int, char**));

} // namespace corescope
