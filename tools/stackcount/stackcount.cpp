// stackcount: the stacks that reach a function, tracepoint or USDT probe
// matching a pattern (common/probe_spec.h: the patterns), counted; at the end
// or every interval; classic multi-line stacks, folded lines for flame
// graphs (-f), or JSON Lines with each stack as arrays of frames.
#include "decoder.h"
#include "map_reader.h"
#include "probe_spec.h"
#include "run.h"
#include "stack_rows.h"
#include "stacks.h"
#include "symbolizer.h"

// libbpf's usdt.bpf.h declares a kconfig value as C's _Bool, which the
// skeleton repeats; g++ takes it as an extension, clang++ does not.
#define _Bool bool
#include "stackcount.skel.h"
#undef _Bool
#include "stackcount/stackcount.h"

#include <algorithm>
#include <map>
#include <set>

namespace corescope::tools {

namespace {

// Without a pattern: the stacks that exec programs, cheap on any host.
constexpr const char* default_pattern = "t:sched:sched_process_exec";

struct Settings {
    StackOptions stacks;
    bool per_process = false; // -P
    bool offsets = false;     // -s
    bool regex = false;       // -r
    // Tracepoints and USDT probes: their stacks do not name them, so each
    // stack shows the probe it reached as its innermost line.
    bool probe_frame = false;
};

using Entry = MapEntry<stackcount_key, uint64_t>;

// One stack to print: the probe it reached, and the shared record.
struct Counted {
    uint32_t probe = 0;
    StackRecord record;
};

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out,
            std::vector<std::string> labels)
        : options_(options), settings_(settings), labels_(std::move(labels)),
          stacks_(options, settings.stacks, out,
                  {json_field("time"), json_field("probe"), json_field("pid"), json_field("comm"),
                   json_field("count")}) {}

    std::string label(uint32_t probe) const {
        return probe < labels_.size() ? labels_[probe] : "probe " + std::to_string(probe);
    }

    // reader: names the stacks; nullptr where there is no stack map (decoders).
    void print(const std::vector<Entry>& entries, StackReader* reader) {
        std::vector<Counted> counted = merge(entries, reader);
        std::stable_sort(counted.begin(), counted.end(), [](const Counted& a, const Counted& b) {
            return a.record.value > b.record.value;
        });
        StackRows<uint32_t> rows; // in that order, beside each its probe
        for (Counted& c : counted)
            rows.add(std::move(c.record), c.probe);
        if (options_.time && !settings_.stacks.folded) {
            std::string heading = "[";
            append_wall_time(heading);
            stacks_.text_heading(heading + "]\n");
        }
        std::string time = options_.interval || options_.time ? iso_time_now() : "";
        stacks_.print(
            rows.records(),
            [&](const StackRecord& record, Record& r) {
                if (time.empty())
                    r.absent();
                else
                    r.text(time);
                r.text(label(rows.of(record)));
                if (settings_.per_process)
                    r.number(record.pid).text(record.comm);
                else
                    r.absent().absent();
                r.number(record.value);
            },
            // The classic form: the probe (tracepoints, USDT) first, with -P
            // the process; folded: with -P the command first, the probe last.
            [&](std::string& out, const StackRecord& record) {
                StackForm form{settings_.offsets, settings_.per_process,
                               settings_.probe_frame ? "[" + label(rows.of(record)) + "]" : ""};
                if (settings_.stacks.folded)
                    append_stack_folded(out, record, form);
                else
                    append_stack_multiline(out, record, form);
            });
    }

  private:
    // Without -P, the same stack from different processes is one stack:
    // counts merged by probe, kernel stack and the user frames' names.
    std::vector<Counted> merge(const std::vector<Entry>& entries, StackReader* reader) {
        std::vector<Counted> out;
        std::map<std::string, size_t> index;
        for (const Entry& e : entries) {
            if (e.value == 0) continue;
            Counted c;
            c.probe = e.key.probe;
            c.record.pid = e.key.pid;
            c.record.comm = std::string(fixed_string(e.key.comm));
            c.record.value = e.value;
            resolve_stacks(c.record, reader, e.key.user_stack_id, e.key.kernel_stack_id);
            std::string key = std::to_string(c.probe);
            if (settings_.per_process) key += "/" + std::to_string(e.key.pid) + "/" + c.record.comm;
            for (const ResolvedStack* s : {&c.record.kernel, &c.record.user})
                key += "|" + stack_identity(*s);
            auto [it, added] = index.try_emplace(key, out.size());
            if (added)
                out.push_back(std::move(c));
            else
                out[it->second].record.value += c.record.value;
        }
        return out;
    }

    const CommonOptions& options_;
    const Settings& settings_;
    std::vector<std::string> labels_;
    StackPrinter stacks_;
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the counts map's
// entries (key, then the count), their stacks not named (no stack map), the
// probes named "probe N"; variant bit 0: -f, bit 1: -P, bit 2: the probes
// are tracepoints (each stack shows its probe).
void decode_stackcount(const CommonOptions& options, uint32_t variant, Output& out,
                       std::span<const RecordedEvent> events) {
    Settings settings;
    settings.stacks.folded = (variant & 1) != 0 && options.format == OutputFormat::text;
    settings.per_process = (variant & 2) != 0;
    settings.probe_frame = (variant & 4) != 0;
    Printer(options, settings, out, {})
        .print(recorded_entries<stackcount_key, uint64_t>(events), nullptr);
}

int stackcount(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    std::string pattern = default_pattern;
    CommandLine cli("stackcount",
                    "Count the stacks that reach functions, tracepoints or USDT probes matching a "
                    "pattern.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::interval, Flag::interval_flag});
    cli.add_switch('r', "regexp", "PATTERN is an extended regular expression, not a glob",
                   &settings.regex);
    cli.add_switch('P', "perpid", "count stacks per process (its PID and name on each stack)",
                   &settings.per_process);
    cli.add_switch('s', "offset", "show each frame's offset in its function (name+0x1a)",
                   &settings.offsets);
    add_stack_options(cli, settings.stacks);
    settings.stacks.count_name = "calls";
    cli.set_positional("PATTERN",
                       std::string("what to count: FUNC (kernel), LIB:FUNC or PATH:FUNC (user), "
                                   "t:CATEGORY:EVENT, u:LIB:PROBE (USDT); * and ? match any text "
                                   "(default: ") +
                           default_pattern + ")",
                       [&](std::string_view v) { pattern = std::string(v); });
    cli.set_examples("  stackcount c:malloc                  the user stacks that call malloc\n"
                     "  stackcount -p 181 -P 'c:pthread_mutex_*'   of process 181 (its own libc)\n"
                     "  stackcount t:sched:sched_switch -d 5  the stacks that switch CPUs\n"
                     "  stackcount -f -d 10 c:write > out.folded   folded, for flamegraph.pl\n"
                     "  stackcount -i 1 t:block:block_rq_insert    every second\n"
                     "  stackcount u:/usr/bin/python3:function__entry   USDT probes\n"
                     "  stackcount submit_bio                  kernel functions (kprobes)\n"
                     "  stackcount -o json -d 10 c:free         JSON, one object a stack");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    check_stack_options(settings.stacks, options);
    settings.stacks.folded_process_first = settings.per_process;
    ProbeSpec spec = parse_probe_spec(pattern);
    NameMatcher check(spec.pattern, settings.regex); // a bad regex is a usage error, before BPF
    bool user_side = spec.type == ProbeType::user || spec.type == ProbeType::usdt;
    if (user_side && settings.stacks.kernel_only)
        throw UsageError("invalid --kernel-stacks-only with '" + spec.text +
                         "': a user function's or USDT probe's stack is all in user space");
    settings.probe_frame = spec.type == ProbeType::tracepoint || spec.type == ProbeType::usdt;
    // A uprobe's registers are the user program's: there is no kernel stack.
    bool kernel_stacks = !user_side && !settings.stacks.user_only;
    bool user_stacks = !settings.stacks.kernel_only;
    if (!kernel_stacks) settings.stacks.user_only = true;

    std::vector<std::string> labels;
    return run_summary_tool<stackcount_bpf>(
        {.name = "stackcount",
         .options = options,
         .attach_steps =
             [&] {
                 return std::vector<AttachStep>{probe_attach_step(
                     spec, {"uprobe_stack", "tp_stack", "usdt_stack", "kprobe_stack"},
                     settings.regex, options.pids, STACKCOUNT_MAX_PROBES, labels)};
             },
         .configure =
             [&](stackcount_bpf& skel, const AttachPlan&) {
                 skel.rodata->user_stacks = user_stacks;
                 skel.rodata->kernel_stacks = kernel_stacks;
                 skel.rodata->per_process = settings.per_process;
                 configure_stack_map(skel.maps.stack_traces, settings.stacks);
                 set_map_entries(skel.maps.counts, settings.stacks.storage_size);
             },
         .announcement =
             interval_announcement(options, "Tracing the stacks of \"" + spec.text + "\""),
         .detach_before_summary = !options.interval.has_value()},
        [&](stackcount_bpf& skel, const AttachPlan&, Output& out) {
            return StackSummary<stackcount_key, uint64_t, Printer>(
                skel.maps.counts, settings.stacks.storage_size, skel.maps.stack_traces,
                Printer(options, settings, out, labels),
                // What a print missed since the last one: stacks, calls, kernel frames.
                [&, missed = MissedSinceLastPrint(options, out, settings.stacks.storage_size,
                                                  !settings.stacks.user_only)](
                    Symbolizer& symbolizer) mutable {
                    missed.stacks(symbolizer, skel.bss->stack_id_collisions,
                                  skel.bss->stack_id_no_memory);
                    if (uint64_t dropped = missed.dropped(skel.bss->calls_dropped))
                        warn("%llu calls not counted (the counts map was full); try a larger "
                             "--stack-storage-size (now %u)",
                             static_cast<unsigned long long>(dropped),
                             settings.stacks.storage_size);
                },
                {.take_each_print = options.interval.has_value(), .pids = options.pids});
        });
}

} // namespace corescope::tools
