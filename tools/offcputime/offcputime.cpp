// offcputime: time threads spend blocked off CPU, summed by user and kernel
// stack, thread and command; classic multi-line stacks, folded lines for
// flame graphs, or JSON Lines.
#include "filters.h"
#include "run.h"
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

// STACK_MAX_DEPTH of bpf/stacks.bpf.h: the kernel's default perf_event_max_stack.
constexpr uint32_t max_stack_depth_limit = 127;

struct Settings {
    bool user_stacks_only = false;    // --user-stacks-only
    bool kernel_stacks_only = false;  // --kernel-stacks-only
    bool user_threads_only = false;   // --user-threads-only
    bool kernel_threads_only = false; // --kernel-threads-only
    bool folded = false;              // -f
    std::optional<uint32_t> state;    // --state MASK
    uint64_t min_block_us = 1;
    uint64_t max_block_us = UINT64_MAX / 1000;
    uint32_t stack_storage = default_stack_storage_size;
    uint32_t max_stack_depth = max_stack_depth_limit;
};

// One key of the totals map and its value.
struct Total {
    offcputime_key key{};
    offcputime_value value{};
};

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

std::vector<Total> read_totals(bpf_map* totals) {
    std::vector<offcputime_key> keys;
    offcputime_key next{};
    const void* prev = nullptr;
    while (keys.size() < OFFCPUTIME_MAX_KEYS &&
           bpf_map__get_next_key(totals, prev, &next, sizeof next) == 0) {
        keys.push_back(next);
        prev = &keys.back();
    }
    std::vector<Total> out;
    out.reserve(keys.size());
    for (const offcputime_key& key : keys) {
        Total t{key, {}};
        if (bpf_map__lookup_elem(totals, &key, sizeof key, &t.value, sizeof t.value, 0) == 0)
            out.push_back(t);
    }
    return out;
}

// The kernel stack is taken inside the probe: on the tp_btf and raw_tp tiers
// its innermost frames are the BPF program and the tracepoint's own calls.
// They are the same for every stack and say nothing about the block, so the
// stack starts where the scheduler called the tracepoint (__schedule), as on
// the tracefs tier.
void drop_probe_frames(ResolvedStack& stack) {
    auto is_probe = [](const Frame& f) {
        const std::string& name = f.symbol.name;
        return f.symbol.module == "bpf" || name.starts_with("bpf_prog_") ||
               name.starts_with("bpf_trace_run") || name.starts_with("__traceiter_") ||
               name.starts_with("__bpf_trace_");
    };
    auto first_kept = std::find_if_not(stack.frames.begin(), stack.frames.end(), is_probe);
    if (first_kept != stack.frames.end()) stack.frames.erase(stack.frames.begin(), first_kept);
}

// The printers of common/stacks.h; the classic line names the thread (the
// key is per thread), as the classic tool does.
class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out, bpf_map* stacks)
        : options_(options), settings_(settings), out_(out), reader_(stacks, symbolizer_) {}

    void print(std::vector<Total> totals) {
        if (!options_.name.empty())
            std::erase_if(totals, [&](const Total& t) {
                return !comm_matches(fixed_string(t.key.comm), options_.name);
            });
        // Text keeps the classic order, the most time last (next to the
        // prompt); folded and JSON put it first.
        std::sort(totals.begin(), totals.end(), [](const Total& a, const Total& b) {
            return a.value.total_ns > b.value.total_ns;
        });
        bool text = !settings_.folded && options_.format == OutputFormat::text;
        if (text) std::reverse(totals.begin(), totals.end());
        for (const Total& t : totals) {
            StackRecord record;
            record.pid = text ? t.key.tid : t.key.pid;
            record.comm = std::string(fixed_string(t.key.comm));
            record.user = reader_.user(t.key.pid, t.key.user_stack_id);
            record.kernel = reader_.kernel(t.key.kernel_stack_id);
            drop_probe_frames(record.kernel);
            record.value = t.value.total_ns / 1000;
            std::string& b = out_.buffer();
            if (settings_.folded)
                append_stack_folded(b, record);
            else if (text)
                append_stack_multiline(b, record);
            else
                json(b, t, record);
            out_.end_record();
        }
    }

    // Reads the mappings of processes new in the totals, while they still
    // run, so their stacks are named even if they exit before the end.
    void remember_new_processes(bpf_map* totals) {
        offcputime_key key{}, prev{};
        bool first = true;
        for (size_t visited = 0;
             visited < OFFCPUTIME_MAX_KEYS &&
             bpf_map__get_next_key(totals, first ? nullptr : &prev, &key, sizeof key) == 0;
             visited++) {
            first = false;
            prev = key;
            if (seen_.insert(key.pid).second) symbolizer_.remember(key.pid);
        }
    }

  private:
    static void json(std::string& b, const Total& t, const StackRecord& record) {
        JsonObject(b)
            .string("type", "stack")
            .unsigned_number("pid", t.key.pid)
            .unsigned_number("tid", t.key.tid)
            .string("comm", record.comm)
            .raw("user_stack", stack_frames_json(record.user))
            .raw("kernel_stack", stack_frames_json(record.kernel))
            .boolean("user_stack_missed", record.user.state == ResolvedStack::State::missed)
            .boolean("kernel_stack_missed", record.kernel.state == ResolvedStack::State::missed)
            .unsigned_number("total_us", record.value)
            .unsigned_number("count", t.value.count)
            .end_line();
    }

    const CommonOptions& options_;
    const Settings& settings_;
    Output& out_;
    Symbolizer symbolizer_;
    StackReader reader_;
    std::set<uint32_t> seen_; // PIDs whose mappings were read
};

// Blocks the kernel side could not record, on stderr (and as a JSON record).
void report_dropped(const __u64 (&dropped)[OFFCPUTIME_DROP_KINDS], const CommonOptions& options,
                    Output& out) {
    uint64_t threads = dropped[OFFCPUTIME_THREADS_DROPPED];
    uint64_t keys = dropped[OFFCPUTIME_KEYS_DROPPED];
    if (threads > 0)
        std::fprintf(stderr, "offcputime: %llu blocks not timed (more than %u threads off CPU)\n",
                     static_cast<unsigned long long>(threads), OFFCPUTIME_MAX_THREADS);
    if (keys > 0)
        std::fprintf(stderr,
                     "offcputime: %llu blocks not counted (table of %u stacks full: narrow the "
                     "trace with -p, -t, -c or --state)\n",
                     static_cast<unsigned long long>(keys), OFFCPUTIME_MAX_KEYS);
    if (options.format == OutputFormat::json && threads + keys > 0)
        JsonObject(out.buffer())
            .string("type", "dropped")
            .unsigned_number("threads_dropped", threads)
            .unsigned_number("stacks_dropped", keys)
            .end_line();
}

// The totals, named, once at the end; meanwhile, every second, the mappings
// of processes new in them.
struct Summary {
    Printer printer;
    offcputime_bpf& skel;
    const CommonOptions& options;
    const Settings& settings;
    Output& out;

    void every_second() { printer.remember_new_processes(skel.maps.totals); }

    void print() {
        printer.print(read_totals(skel.maps.totals));
        report_missed_stacks("offcputime", skel.bss->stack_id_collisions,
                             skel.bss->stack_id_no_memory, settings.stack_storage, out,
                             options.format == OutputFormat::json);
        report_dropped(skel.bss->dropped, options, out);
    }
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("scheduler switches", {{"switch", "sched:sched_switch"}})};
}

} // namespace

int offcputime(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("offcputime", "Summarize off-CPU time (time blocked) by stack trace.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::duration});
    cli.add_switch(0, "user-stacks-only", "show only user-space stacks",
                   &settings.user_stacks_only);
    cli.add_switch(0, "kernel-stacks-only", "show only kernel stacks",
                   &settings.kernel_stacks_only);
    cli.add_switch(0, "user-threads-only", "only user threads (no kernel threads)",
                   &settings.user_threads_only);
    cli.add_switch(0, "kernel-threads-only", "only kernel threads (no user threads)",
                   &settings.kernel_threads_only);
    cli.add_switch('f', "folded", "folded output for flame graphs (COMM;frames USECS)",
                   &settings.folded);
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
    cli.add_option(0, "stack-storage-size", "COUNT",
                   "distinct stacks the kernel can hold (default 16384)", [&](std::string_view v) {
                       settings.stack_storage = static_cast<uint32_t>(
                           parse_unsigned("stack storage size", v, 1, 1 << 24));
                   });
    cli.add_option(0, "perf-max-stack-depth", "FRAMES", "deepest stack recorded (default 127)",
                   [&](std::string_view v) {
                       settings.max_stack_depth = static_cast<uint32_t>(
                           parse_unsigned("stack depth", v, 1, max_stack_depth_limit));
                   });
    cli.set_examples("  offcputime                  every thread, until Ctrl-C\n"
                     "  offcputime -d 5             for five seconds\n"
                     "  offcputime -p 185           process 185 only\n"
                     "  offcputime --state 2        only uninterruptible sleeps (D)\n"
                     "  offcputime --min-block 1000 only blocks of 1 ms or more\n"
                     "  offcputime -f -d 10         folded, for flamegraph.pl\n"
                     "  offcputime -o json -p 185   one JSON object per stack\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (settings.user_stacks_only && settings.kernel_stacks_only)
        throw UsageError("--user-stacks-only and --kernel-stacks-only cannot be combined");
    if (settings.user_threads_only && settings.kernel_threads_only)
        throw UsageError("--user-threads-only and --kernel-threads-only cannot be combined");
    if (settings.min_block_us > settings.max_block_us)
        throw UsageError("invalid --min-block " + std::to_string(settings.min_block_us) +
                         ": above --max-block " + std::to_string(settings.max_block_us));
    if (settings.folded && options.format == OutputFormat::json)
        throw UsageError("-f (folded) and -o json cannot be combined: pick one output");

    return run_summary_tool<offcputime_bpf>(
        {.name = "offcputime",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](offcputime_bpf& skel, const AttachPlan&) {
                 skel.rodata->threads = settings.user_threads_only     ? OFFCPUTIME_USER_THREADS
                                        : settings.kernel_threads_only ? OFFCPUTIME_KERNEL_THREADS
                                                                       : OFFCPUTIME_ALL_THREADS;
                 skel.rodata->user_stacks = !settings.kernel_stacks_only;
                 skel.rodata->kernel_stacks = !settings.user_stacks_only;
                 skel.rodata->filter_state = settings.state.has_value();
                 skel.rodata->state_mask = settings.state.value_or(0);
                 skel.rodata->min_block_ns = settings.min_block_us * 1000;
                 skel.rodata->max_block_ns = settings.max_block_us * 1000;
                 // sched_switch(preempt, prev, next, prev_state) since 5.18; no prev_state before.
                 skel.rodata->switch_has_state =
                     KernelFeatures::instance().tracepoint_arg_count("sched_switch") >= 4;
                 set_stack_storage_size(skel.maps.stack_traces, settings.stack_storage);
                 // The depth is the value size; the reader reads it back from the map.
                 int err = bpf_map__set_value_size(skel.maps.stack_traces,
                                                   settings.max_stack_depth * sizeof(uint64_t));
                 if (err) throw RuntimeError(errno_message("cannot size the stack map", err));
             },
         .announcement = "Tracing off-CPU time (us) by stack... Hit Ctrl-C to end.",
         .detach_before_summary = true},
        [&](offcputime_bpf& skel, const AttachPlan&, Output& out) {
            return Summary{Printer(options, settings, out, skel.maps.stack_traces), skel, options,
                           settings, out};
        });
}

} // namespace corescope::tools
