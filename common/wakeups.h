// What wakeuptime and offwaketime share on the user side: their options
// (stacks, thread kind, block length), the loader's settings for
// bpf/wakeups.bpf.h, the attach plan, a task's stacks as read back, and the
// blocks the kernel side could not record.
#pragma once

#include "attach_plan.h"
#include "cli.h"
#include "kernel_features.h"
#include "output.h"
#include "stacks.h"

#include <linux/types.h>

#include "wakeup_stacks.h"

#include <cstdint>
#include <string>
#include <vector>

namespace corescope {

struct WakeupOptions {
    StackOptions stacks;
    bool user_threads_only = false;   // --user-threads-only (the classic -u: -u is --uid here)
    bool kernel_threads_only = false; // --kernel-threads-only
    uint64_t min_block_us = 1;        // --min-block (the classic -m: -m is --milliseconds)
    uint64_t max_block_us = UINT64_MAX / 1000; // --max-block (the classic -M)
};

// Adds the options to a tool's command line.
void add_wakeup_options(CommandLine& cli, WakeupOptions& wakeups);
// Throws UsageError for combinations that cannot be honoured.
void check_wakeup_options(const WakeupOptions& wakeups, const CommonOptions& options);

// Before load: the settings bpf/wakeups.bpf.h reads, and the stack map's size.
template <class Skeleton>
void configure_wakeups(Skeleton& skel, const WakeupOptions& wakeups) {
    skel.rodata->threads = wakeups.user_threads_only     ? WAKEUPS_USER_THREADS
                           : wakeups.kernel_threads_only ? WAKEUPS_KERNEL_THREADS
                                                         : WAKEUPS_ALL_THREADS;
    skel.rodata->user_stacks = !wakeups.stacks.kernel_only;
    skel.rodata->kernel_stacks = !wakeups.stacks.user_only;
    skel.rodata->min_block_ns = wakeups.min_block_us * 1000;
    skel.rodata->max_block_ns = wakeups.max_block_us * 1000;
    // sched_switch(preempt, prev, next, prev_state) since 5.18; no prev_state before.
    skel.rodata->switch_has_state =
        KernelFeatures::instance().tracepoint_arg_count("sched_switch") >= 4;
    configure_stack_map(skel.maps.stack_traces, wakeups.stacks);
}

// sched_switch and sched_waking on the three tracepoint tiers.
std::vector<AttachStep> wakeup_attach_steps();

// A task's user and kernel stacks by their IDs, the probe's own frames
// dropped; reader nullptr (decoders): no frames.
void read_task_stacks(StackReader* reader, const task_stacks& task, ResolvedStack& user,
                      ResolvedStack& kernel);

// "    LABEL:           COMM (TID)\n", the classic tools' line naming a task.
void append_task_line(std::string& out, const char* label, std::string_view comm, uint32_t tid);

// Blocks the kernel side could not record, on stderr (and as a JSON record).
void report_wakeups_dropped(const __u64 (&dropped)[WAKEUPS_DROP_KINDS],
                            const CommonOptions& options, Output& out);

} // namespace corescope
