// offcputime: time threads spend blocked off CPU, summed by user and kernel
// stack, thread and command; classic multi-line stacks, folded lines for
// flame graphs, or JSON Lines.
#include "decoder.h"
#include "filters.h"
#include "map_reader.h"
#include "run.h"
#include "stack_rows.h"
#include "stacks.h"

#include "offcputime.skel.h"
#include "offcputime/offcputime.h"
#include <linux/types.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace corescope::tools {

namespace {

struct Settings {
    StackOptions stacks;
    bool user_threads_only = false;   // --user-threads-only
    bool kernel_threads_only = false; // --kernel-threads-only
    std::optional<uint32_t> state;    // --state MASK
    uint64_t min_block_us = 1;
    uint64_t max_block_us = UINT64_MAX / 1000;
};

using Total = MapEntry<offcputime_key, offcputime_value>;

// --state takes a number, decimal or 0x hex.
uint32_t parse_state_mask(std::string_view text) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        std::string digits(text.substr(2));
        char* end = nullptr;
        unsigned long value = std::strtoul(digits.c_str(), &end, 16);
        if (digits.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos && end &&
            *end == '\0' && value <= UINT32_MAX)
            return static_cast<uint32_t>(value);
        throw UsageError("invalid state mask '" + std::string(text) +
                         "': not a number (e.g. 2 for TASK_UNINTERRUPTIBLE)");
    }
    return static_cast<uint32_t>(parse_unsigned("state mask", text, 0, UINT32_MAX));
}

// The totals as stacks, the most time first; the classic line names the
// thread (the key is per thread), as the classic tool does.
class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : options_(options), stacks_(options, settings.stacks, out,
                                     {json_field("pid"), json_field("tid"), json_field("comm"),
                                      json_field("total_us"), json_field("count")}) {}

    // reader: names the stacks; nullptr where there is no stack map (decoders).
    void print(std::vector<Total> totals, StackReader* reader) {
        std::erase_if(totals, [&](const Total& t) {
            return !comm_matches(fixed_string(t.key.comm), options_.name);
        });
        std::sort(totals.begin(), totals.end(), [](const Total& a, const Total& b) {
            return a.value.total_ns > b.value.total_ns;
        });
        StackRows<const Total*> rows; // in that order
        for (const Total& t : totals) {
            StackRecord record;
            record.pid = t.key.tid;
            record.comm = std::string(fixed_string(t.key.comm));
            if (reader) {
                record.user = reader->user(t.key.pid, t.key.user_stack_id);
                record.kernel = reader->kernel(t.key.kernel_stack_id);
                drop_probe_frames(record.kernel);
            }
            record.value = t.value.total_ns / 1000;
            rows.add(std::move(record), &t);
        }
        stacks_.print(rows.records(), [&](const StackRecord& record, Record& r) {
            const Total& t = *rows.of(record);
            r.number(t.key.pid)
                .number(t.key.tid)
                .text(record.comm)
                .number(record.value)
                .number(t.value.count);
        });
    }

  private:
    const CommonOptions& options_;
    StackPrinter stacks_;
};

// Blocks the kernel side could not record, on stderr (and as a JSON record).
void report_dropped(const __u64 (&dropped)[OFFCPUTIME_DROP_KINDS], const CommonOptions& options,
                    Output& out) {
    uint64_t threads = dropped[OFFCPUTIME_THREADS_DROPPED];
    uint64_t keys = dropped[OFFCPUTIME_KEYS_DROPPED];
    if (threads > 0)
        warn("%llu blocks not timed (more than %u threads off CPU)",
             static_cast<unsigned long long>(threads), OFFCPUTIME_MAX_THREADS);
    if (keys > 0)
        warn("%llu blocks not counted (table of %u stacks full: narrow the "
             "trace with -p, -t, -c or --state)",
             static_cast<unsigned long long>(keys), OFFCPUTIME_MAX_KEYS);
    if (threads + keys > 0)
        json_notice(options, out, "dropped",
                    {{"threads_dropped", threads}, {"stacks_dropped", keys}});
}

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("scheduler switches", {{"switch", "sched:sched_switch"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the totals map's
// entries (key, then value), their stacks not named (no stack map);
// variant bit 0: -f.
void decode_offcputime(const CommonOptions& options, uint32_t variant, Output& out,
                       std::span<const RecordedEvent> events) {
    Settings settings;
    settings.stacks.folded = (variant & 1) != 0 && options.format == OutputFormat::text;
    Printer(options, settings, out)
        .print(recorded_entries<offcputime_key, offcputime_value>(events), nullptr);
}

int offcputime(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("offcputime", "Summarize off-CPU time (time blocked) by stack trace.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::duration});
    add_stack_options(cli, settings.stacks);
    settings.stacks.count_name = "us";
    cli.add_switch(0, "user-threads-only", "only user threads (no kernel threads)",
                   &settings.user_threads_only);
    cli.add_switch(0, "kernel-threads-only", "only kernel threads (no user threads)",
                   &settings.kernel_threads_only);
    cli.add_option(0, "state", "MASK", "only blocks begun in these states (1 S, 2 D; 0 preempted)",
                   [&](std::string_view v) { settings.state = parse_state_mask(v); });
    cli.add_option(0, "min-block", "USECS", "only blocks at least this long (default 1)",
                   [&](std::string_view v) {
                       settings.min_block_us =
                           parse_unsigned("--min-block", v, 0, UINT64_MAX / 1000);
                   });
    cli.add_option(
        0, "max-block", "USECS", "only blocks at most this long", [&](std::string_view v) {
            settings.max_block_us = parse_unsigned("--max-block", v, 0, UINT64_MAX / 1000);
        });
    cli.set_examples("  offcputime                  every thread, until Ctrl-C\n"
                     "  offcputime -d 5             for five seconds\n"
                     "  offcputime -p 185           process 185 only\n"
                     "  offcputime --state 2        only uninterruptible sleeps (D)\n"
                     "  offcputime --min-block 1000 only blocks of 1 ms or more\n"
                     "  offcputime -f -d 10         folded, for flamegraph.pl\n"
                     "  offcputime -o json -p 185   one JSON object per stack");
    cli.exclusive({"--user-threads-only", "--kernel-threads-only"}, "");
    cli.ordered("--min-block", &settings.min_block_us, "--max-block", &settings.max_block_us);
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    check_stack_options(settings.stacks, options);

    return run_summary_tool<offcputime_bpf>(
        {.name = "offcputime",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](offcputime_bpf& skel, const AttachPlan&) {
                 skel.rodata->threads = settings.user_threads_only     ? OFFCPUTIME_USER_THREADS
                                        : settings.kernel_threads_only ? OFFCPUTIME_KERNEL_THREADS
                                                                       : OFFCPUTIME_ALL_THREADS;
                 skel.rodata->user_stacks = !settings.stacks.kernel_only;
                 skel.rodata->kernel_stacks = !settings.stacks.user_only;
                 skel.rodata->filter_state = settings.state.has_value();
                 skel.rodata->state_mask = settings.state.value_or(0);
                 skel.rodata->min_block_ns = settings.min_block_us * 1000;
                 skel.rodata->max_block_ns = settings.max_block_us * 1000;
                 // sched_switch(preempt, prev, next, prev_state) since 5.18; no prev_state before.
                 skel.rodata->switch_has_state =
                     KernelFeatures::instance().tracepoint_arg_count("sched_switch") >= 4;
                 configure_stack_map(skel.maps.stack_traces, settings.stacks);
             },
         .announcement = "Tracing off-CPU time (us) by stack... Hit Ctrl-C to end.",
         .detach_before_summary = true},
        [&](offcputime_bpf& skel, const AttachPlan&, Output& out) {
            return StackSummary<offcputime_key, offcputime_value, Printer>(
                skel.maps.totals, OFFCPUTIME_MAX_KEYS, skel.maps.stack_traces,
                Printer(options, settings, out), [&](Symbolizer&) {
                    report_missed_stacks(skel, settings.stacks.storage_size, options, out);
                    report_dropped(skel.bss->dropped, options, out);
                });
        });
}

} // namespace corescope::tools
