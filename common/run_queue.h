// The attach plan of the tools that time run-queue waits (runqlat,
// runqslower): the user-space side of bpf/runq_stamps.bpf.h's wake-up
// programs and the tool's own sched_switch programs.
#pragma once

#include "attach_plan.h"

#include <vector>

namespace corescope {

// One step, so that wake-ups and switches always come from the same tier:
// the tracefs tier stamps and accounts differently from the other two.
inline std::vector<AttachStep> run_queue_attach_steps() {
    return {tracepoint_tiers("scheduler wake-ups and switches",
                             {{"wakeup", "sched:sched_wakeup"},
                              {"wakeup_new", "sched:sched_wakeup_new"},
                              {"switch", "sched:sched_switch"}})};
}

} // namespace corescope
