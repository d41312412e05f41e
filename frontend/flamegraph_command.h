// corescope flamegraph: folded stacks from a file or stdin (perf script |
// stackcollapse, bpftrace, a stack tool's -f) drawn as the stack tools'
// -o svg draws them (common/flamegraph.h; docs/man/corescope-flamegraph.8.md).
#pragma once

namespace corescope {

int flamegraph_command(int argc, char** argv);

} // namespace corescope
