// One run of a system-call event tool (statsnoop, mountsnoop...) on both of
// its tiers, for the tests of such tools.
#pragma once

#include "harness.h"

#include <string>
#include <vector>

namespace itest {

// What four instances of tool printed while child (named comm) and other (a
// twin of the test's own under another name) made their calls: text
// filtered by -n comm, JSON filtered by -p on the tracepoint tier and on the
// raw sys_enter/sys_exit tier, and -x JSON by -n comm. The children run once
// every instance is attached; each instance has shown last (the child's last
// call) before it is stopped, so it was handed everything before it.
struct SyscallToolRuns {
    Finished text;
    std::vector<Finished> json; // [0] tracepoints, [1] raw_tp
    Finished failed;
};
SyscallToolRuns run_on_both_syscall_tiers(const std::string& tool, GatedChild& child,
                                          GatedChild& other, const std::string& comm,
                                          const std::string& last);

} // namespace itest
