// The entry point of one standalone tool; CORESCOPE_TOOL names it. The
// same tool functions are linked into the corescope front end.
#include "standalone.h"

#define CORESCOPE_STRINGIFY2(x) #x
#define CORESCOPE_STRINGIFY(x) CORESCOPE_STRINGIFY2(x)

namespace corescope::tools {
int CORESCOPE_TOOL(int argc, char** argv);
}

int main(int argc, char** argv) {
    return corescope::run_standalone(CORESCOPE_STRINGIFY(CORESCOPE_TOOL), argc, argv,
                                     corescope::tools::CORESCOPE_TOOL);
}
