// What wakeuptime and offwaketime share on the user side: their options
// (stacks, thread kind, block length), the loader's settings for
// bpf/wakeups.bpf.h, the attach plan, a task's stacks as read back, the
// blocks the kernel side could not record, the order of the totals, the
// decoder and the entry point. Each tool says only what its key holds and
// how its records read.
#pragma once

#include "attach_plan.h"
#include "cli.h"
#include "decoder.h"
#include "filters.h"
#include "kernel_features.h"
#include "map_reader.h"
#include "output.h"
#include "run.h"
#include "stacks.h"

#include <linux/types.h>

#include "wakeup_stacks.h"

#include <algorithm>
#include <cstdint>
#include <span>
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
void check_wakeup_options(WakeupOptions& wakeups, const CommonOptions& options);

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

// One task's stacks and the time it stands for, in microseconds: a record
// for StackPrinter.
StackRecord wakeup_record(StackReader* reader, const task_stacks& task, const wakeups_value& value);

// "    LABEL:           COMM (TID)\n", the classic tools' line naming a task.
void append_task_line(std::string& out, const char* label, std::string_view comm, uint32_t tid);

// Blocks the kernel side could not record, on stderr (and as a JSON record).
void report_wakeups_dropped(const __u64 (&dropped)[WAKEUPS_DROP_KINDS],
                            const CommonOptions& options, Output& out);

template <class Key>
using WakeupTotal = MapEntry<Key, wakeups_value>;

// The totals whose woken thread -n selects (as -p and the others select
// it), the most time first. target_comm(total): the woken thread's name.
template <class Key, class TargetComm>
void select_wakeup_totals(std::vector<WakeupTotal<Key>>& totals, const CommonOptions& options,
                          TargetComm target_comm) {
    std::erase_if(totals, [&](const WakeupTotal<Key>& t) {
        return !comm_matches(target_comm(t), options.name);
    });
    std::sort(totals.begin(), totals.end(),
              [](const WakeupTotal<Key>& a, const WakeupTotal<Key>& b) {
                  return a.value.total_ns > b.value.total_ns;
              });
}

// A wake-up tool's decoder (common/decoder.h, for tests/golden and
// tests/fuzz): the totals map's entries (key, then value), their stacks not
// named (no stack map); variant bit 0: -f. Printer(options, wakeups, out)
// prints the totals with print(entries, StackReader*).
template <class Key, class Printer>
void decode_wakeup_totals(const CommonOptions& options, uint32_t variant, Output& out,
                          std::span<const RecordedEvent> events) {
    WakeupOptions wakeups;
    wakeups.stacks.folded = (variant & 1) != 0 && options.format == OutputFormat::text;
    Printer(options, wakeups, out).print(recorded_entries<Key, wakeups_value>(events), nullptr);
}

// What sets one wake-up tool apart on its command line and terminal.
struct WakeupToolText {
    const char* name;
    const char* summary;      // the line under --help's usage
    const char* examples;     // --help's examples
    const char* announcement; // "Tracing ... Hit Ctrl-C to end."
};

// A wake-up tool's entry point: its command line, then its totals printed
// once at the end by Printer (see decode_wakeup_totals), with what the run
// missed. remember(collector, key) remembers the processes whose stacks a
// key holds, so that they are named even if they exit before the end.
template <class Skeleton, class Key, class Printer>
int run_wakeup_tool(int argc, char** argv, const WakeupToolText& text,
                    void (*remember)(StackCollector&, const Key&)) {
    CommonOptions options;
    WakeupOptions wakeups;
    CommandLine cli(text.name, text.summary,
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::duration});
    add_wakeup_options(cli, wakeups);
    cli.set_examples(text.examples);
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    check_wakeup_options(wakeups, options);

    return run_summary_tool<Skeleton>(
        {.name = text.name,
         .options = options,
         .attach_steps = wakeup_attach_steps,
         .configure = [&](Skeleton& skel, const AttachPlan&) { configure_wakeups(skel, wakeups); },
         .announcement = text.announcement,
         .detach_before_summary = true},
        [&](Skeleton& skel, const AttachPlan&, Output& out) {
            return StackSummary<Key, wakeups_value, Printer>(
                skel.maps.totals, WAKEUPS_MAX_KEYS, skel.maps.stack_traces,
                Printer(options, wakeups, out),
                [&](Symbolizer&) {
                    report_missed_stacks(skel, wakeups.stacks.storage_size, options, out);
                    report_wakeups_dropped(skel.bss->dropped, options, out);
                },
                {.remember = remember});
        });
}

} // namespace corescope
