// The entry point of one standalone tool; CORESCOPE_TOOL names it. The
// same tool functions are linked into the corescope front end.
#include "tool.h"

#define CORESCOPE_STRINGIFY2(x) #x
#define CORESCOPE_STRINGIFY(x) CORESCOPE_STRINGIFY2(x)

namespace corescope::tools {
int CORESCOPE_TOOL(int argc, char** argv);
}

int main(int argc, char** argv) {
    // Named as invoked: ext4slower (a link to fsslower), bpf-opensnoop.
    std::string name = corescope::invoked_name(argc, argv, CORESCOPE_STRINGIFY(CORESCOPE_TOOL));
    return corescope::run_tool(name.c_str(), argc, argv, corescope::tools::CORESCOPE_TOOL);
}
