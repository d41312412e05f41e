#include "wakeups.h"

#include "errors.h"
#include "record.h"
#include "tool.h"

#include <cstdio>

namespace corescope {

void add_wakeup_options(CommandLine& cli, WakeupOptions& wakeups) {
    add_stack_options(cli, wakeups.stacks);
    wakeups.stacks.count_name = "us";
    cli.add_switch(0, "user-threads-only", "only user threads (no kernel threads)",
                   &wakeups.user_threads_only);
    cli.add_switch(0, "kernel-threads-only", "only kernel threads (no user threads)",
                   &wakeups.kernel_threads_only);
    cli.add_option(0, "min-block", "USECS", "only blocks at least this long (default 1)",
                   [&](std::string_view v) {
                       wakeups.min_block_us =
                           parse_unsigned("--min-block", v, 0, UINT64_MAX / 1000);
                   });
    cli.add_option(
        0, "max-block", "USECS", "only blocks at most this long", [&](std::string_view v) {
            wakeups.max_block_us = parse_unsigned("--max-block", v, 0, UINT64_MAX / 1000);
        });
}

void check_wakeup_options(WakeupOptions& wakeups, const CommonOptions& options) {
    check_stack_options(wakeups.stacks, options);
    if (wakeups.user_threads_only && wakeups.kernel_threads_only)
        throw UsageError("--user-threads-only and --kernel-threads-only cannot be combined");
    if (wakeups.min_block_us > wakeups.max_block_us)
        throw UsageError("invalid --min-block " + std::to_string(wakeups.min_block_us) +
                         ": above --max-block " + std::to_string(wakeups.max_block_us));
}

std::vector<AttachStep> wakeup_attach_steps() {
    return {tracepoint_tiers("scheduler switches and wake-ups",
                             {{"switch", "sched:sched_switch"}, {"waking", "sched:sched_waking"}})};
}

void read_task_stacks(StackReader* reader, const task_stacks& task, ResolvedStack& user,
                      ResolvedStack& kernel) {
    if (!reader) return;
    user = reader->user(task.pid, task.user_stack_id);
    kernel = reader->kernel(task.kernel_stack_id);
    drop_probe_frames(kernel);
}

StackRecord wakeup_record(StackReader* reader, const task_stacks& task,
                          const wakeups_value& value) {
    StackRecord record;
    record.pid = task.tid;
    record.comm = std::string(fixed_string(task.comm));
    read_task_stacks(reader, task, record.user, record.kernel);
    record.value = value.total_ns / 1000;
    return record;
}

void append_task_line(std::string& out, const char* label, std::string_view comm, uint32_t tid) {
    char head[32];
    std::snprintf(head, sizeof head, "    %-16s ", label);
    out += head;
    append_text_escaped(out, comm);
    char id[32];
    std::snprintf(id, sizeof id, " (%u)\n", tid);
    out += id;
}

void report_wakeups_dropped(const __u64 (&dropped)[WAKEUPS_DROP_KINDS],
                            const CommonOptions& options, Output& out) {
    uint64_t threads = dropped[WAKEUPS_THREADS_DROPPED];
    uint64_t keys = dropped[WAKEUPS_KEYS_DROPPED];
    if (threads > 0)
        warn("%llu blocks not timed (more than %u threads blocked)",
             static_cast<unsigned long long>(threads), WAKEUPS_MAX_THREADS);
    if (keys > 0)
        warn("%llu blocks not counted (table of %u stacks full: narrow the "
             "trace with -p, -t or -c)",
             static_cast<unsigned long long>(keys), WAKEUPS_MAX_KEYS);
    if (threads + keys > 0)
        json_notice(options, out, "dropped",
                    {{"threads_dropped", threads}, {"stacks_dropped", keys}});
}

} // namespace corescope
