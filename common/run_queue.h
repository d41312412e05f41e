// The attach plan of the tools that time run-queue waits (runqlat,
// runqslower): the user-space side of bpf/runq_stamps.bpf.h's wake-up
// programs and the tool's own sched_switch programs.
#pragma once

#include "attach_plan.h"
#include "errors.h"
#include "kernel_features.h"
#include "map_reader.h"

#include <bpf/libbpf.h>

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

// Before load, the rodata and maps of bpf/runq_stamps.bpf.h for the plan:
// sched_switch has prev_state since 5.18; each tier keeps its start stamps
// in its own map, and the others shrink to nothing (task storage is not even
// created: a kernel before 5.11 has none, and only the tp_btf tier uses it).
template <class Skeleton>
void configure_run_queue_stamps(Skeleton& skel, const AttachPlan& plan) {
    skel.rodata->switch_has_state =
        KernelFeatures::instance().tracepoint_arg_count("sched_switch") >= 4;
    bool typed = plan.uses("btf_switch");
    if (int err = bpf_map__set_autocreate(skel.maps.task_start, typed))
        throw RuntimeError(errno_message("cannot leave out task storage", err));
    if (typed) set_map_entries(skel.maps.start, 1);
    if (!plan.uses("tp_switch")) set_map_entries(skel.maps.pending, 1);
}

} // namespace corescope
