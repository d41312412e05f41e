// futexctn: futex contention, as log2 histograms of wait time per process,
// lock (the futex word's address) and user stack where it waited.
#include "decoder.h"
#include "filters.h"
#include "histogram_printer.h"
#include "map_reader.h"
#include "run.h"
#include "stack_rows.h"
#include "stacks.h"

#include "futexctn.skel.h"
#include "futexctn/futexctn.h"
#include <linux/types.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace corescope::tools {

namespace {

struct Settings {
    bool stacks = true;                                 // --no-stacks turns them off
    uint32_t storage_size = default_stack_storage_size; // --stack-storage-size
    uint64_t lock = 0;                                  // -l: one futex word; 0 for all
    uint64_t min_wait_us = 0;                           // --min-wait
    std::optional<size_t> top;                          // --top N
    // -o svg: one flame graph of the time waited (from the folded form below).
    StackOptions flame{.folded = true, .count_name = "us"};
};

using Entry = MapEntry<futexctn_key, futexctn_value>;

// Each interval: one histogram per (process, lock, stack), the most time
// waited first; the label line says who waited where, how often and how long,
// then the user stack, innermost frame first. Under -o svg, one flame graph
// of the microseconds waited: the command, the user stack outermost first,
// the lock on top.
class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : options_(options), settings_(settings),
          histograms_(options, out,
                      {json_field("pid"), json_field("comm"), json_field("lock"),
                       json_field("count"), json_field("total_us"), json_field("min_us"),
                       json_field("max_us"), shown_if(settings.stacks, json_field("user_stack")),
                       shown_if(settings.stacks, json_field("user_stack_missed"))},
                      options.milliseconds ? "msecs" : "usecs"),
          flame_(options, settings.flame, out, {}) {}

    // reader: names the stacks (unless --no-stacks); nullptr where there is
    // no stack map (decoders).
    void print(std::vector<Entry> entries, StackReader* reader) {
        if (options_.format != OutputFormat::svg) histograms_.begin_interval();
        std::erase_if(entries, [&](const Entry& e) {
            return !comm_matches(fixed_string(e.key.comm), options_.name);
        });
        std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
            return a.value.total_ns > b.value.total_ns;
        });
        if (settings_.top && entries.size() > *settings_.top) entries.resize(*settings_.top);
        if (options_.format == OutputFormat::svg) {
            print_flame_graph(entries, reader);
            return;
        }
        for (const Entry& e : entries) {
            ResolvedStack stack = stack_of(e, reader);
            std::string comm(fixed_string(e.key.comm));
            uint64_t min_ns = e.value.count ? e.value.min_ns : 0;
            histograms_.print(
                Histogram::log2_slots(e.value.slots),
                [&](Record& r) {
                    r.number(e.key.pid)
                        .text(comm)
                        .text(hex_number(e.key.uaddr))
                        .number(e.value.count)
                        .number(e.value.total_ns / 1000)
                        .number(min_ns / 1000)
                        .number(e.value.max_ns / 1000)
                        .lazy([&] { return Formatted{stack_frames_json(stack)}; })
                        .boolean(stack.state == ResolvedStack::State::missed);
                },
                [&] { return text_label(e, comm, min_ns, stack); });
        }
    }

  private:
    ResolvedStack stack_of(const Entry& e, StackReader* reader) const {
        ResolvedStack stack;
        if (reader && settings_.stacks)
            stack = reader->user(e.key.pid, e.key.user_stack_id);
        else
            stack.state = stack_state_of(e.key.user_stack_id); // decoders: no map, the ID says
        return stack;
    }

    void print_flame_graph(const std::vector<Entry>& entries, StackReader* reader) {
        StackRows<const Entry*> rows; // in that order
        for (const Entry& e : entries) {
            StackRecord record;
            record.pid = e.key.pid;
            record.comm = std::string(fixed_string(e.key.comm));
            if (settings_.stacks) record.user = stack_of(e, reader);
            record.value = e.value.total_ns / 1000;
            rows.add(std::move(record), &e);
        }
        flame_.print(
            rows.records(), [](const StackRecord&, Record&) {},
            [&](std::string& out, const StackRecord& record) {
                std::string lock = "lock " + hex_number(rows.of(record)->key.uaddr);
                append_stack_folded(out, record, {false, true, lock});
            });
    }

    std::string text_label(const Entry& e, const std::string& comm, uint64_t min_ns,
                           const ResolvedStack& stack) const {
        char line[200];
        std::snprintf(
            line, sizeof line, " lock %s: %llu waits, total %llu us, min %llu us, max %llu us",
            hex_number(e.key.uaddr).c_str(), static_cast<unsigned long long>(e.value.count),
            static_cast<unsigned long long>(e.value.total_ns / 1000),
            static_cast<unsigned long long>(min_ns / 1000),
            static_cast<unsigned long long>(e.value.max_ns / 1000));
        std::string label = "PID " + std::to_string(e.key.pid) + " (" + text_escaped(comm) + ")";
        label += line;
        if (!settings_.stacks) return label;
        if (stack.state == ResolvedStack::State::missed) label += "\n    [missed user stack]";
        for (const Frame& f : stack.frames)
            label += "\n    " + text_escaped(symbol_label(f.symbol));
        return label;
    }

    const CommonOptions& options_;
    const Settings& settings_;
    HistogramPrinter histograms_;
    StackPrinter flame_;
};

std::vector<AttachStep> attach_steps() {
    // futex_waitv is 5.16+, futex_wait (futex2) 6.7+.
    return {syscall_tiers(
        "futex waits",
        {{"futex"}, {"futex_waitv", true, true, true}, {"futex_wait", true, true, true}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): one interval's map
// entries (key, then value), their stacks not named (no stack map); variant
// bit 0: --no-stacks.
void decode_futexctn(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    Settings settings;
    settings.stacks = (variant & 1) == 0;
    Printer(options, settings, out)
        .print(recorded_entries<futexctn_key, futexctn_value>(events), nullptr);
}

int futexctn(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    bool no_stacks = false;
    CommandLine cli("futexctn",
                    "Summarize futex contention (lock waits) by process, lock address and user "
                    "stack, as histograms.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::duration, Flag::milliseconds, Flag::interval});
    cli.allow_svg();
    cli.add_option('l', "lock", "ADDR", "only this lock (the futex word's address, 0x hex)",
                   [&](std::string_view v) { settings.lock = parse_address("lock address", v); });
    cli.add_option(0, "min-wait", "USECS", "only waits at least this long",
                   [&](std::string_view v) {
                       settings.min_wait_us = parse_unsigned("--min-wait", v, 0, UINT64_MAX / 1000);
                   });
    cli.add_option(
        0, "top", "N", "only the N locks waited on longest, each interval",
        [&](std::string_view v) { settings.top = parse_unsigned("--top", v, 1, 1u << 20); });
    cli.add_switch(0, "no-stacks", "no user stacks: one histogram per process and lock",
                   &no_stacks);
    add_stack_storage_option(cli, settings.storage_size);
    cli.set_examples("  futexctn                     every process, until Ctrl-C\n"
                     "  futexctn -p 185 5            process 185, every 5 seconds\n"
                     "  futexctn -p 185 -l 0x7f3a4c000b40  one lock of it\n"
                     "  futexctn --min-wait 1000     only waits of 1 ms or more\n"
                     "  futexctn --top 5 --no-stacks the 5 locks waited on longest\n"
                     "  futexctn -o json -d 10       JSON Lines, one record per lock and stack\n"
                     "  futexctn -d 10 -o svg > futex.svg  a flame graph of the time waited");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    settings.stacks = !no_stacks;

    return run_summary_tool<futexctn_bpf>(
        {.name = "futexctn",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](futexctn_bpf& skel, const AttachPlan&) {
                 skel.rodata->user_stacks = settings.stacks;
                 skel.rodata->wanted_lock = settings.lock;
                 skel.rodata->min_wait_ns = settings.min_wait_us * 1000;
                 skel.rodata->unit_ns = options.milliseconds ? 1000000 : 1000;
                 StackOptions stacks;
                 stacks.storage_size = settings.stacks ? settings.storage_size : 1;
                 configure_stack_map(skel.maps.stack_traces, stacks);
             },
         .announcement = "Tracing futex waits... Hit Ctrl-C to end."},
        [&](futexctn_bpf& skel, const AttachPlan&, Output& out) {
            // What the kernel side could not record, once per run, on stderr
            // (and as a JSON record).
            auto report = [&, reported_keys = uint64_t{0},
                           reported_stacks = uint64_t{0}](Symbolizer&) mutable {
                uint64_t keys = skel.bss->dropped[FUTEXCTN_KEYS_DROPPED];
                if (keys > reported_keys) {
                    warn("%llu waits not counted (table of %u locks full: narrow the trace with "
                         "-p, -t, -l or --min-wait)",
                         static_cast<unsigned long long>(keys - reported_keys), FUTEXCTN_MAX_KEYS);
                    json_notice(options, out, "dropped", {{"locks_dropped", keys - reported_keys}});
                    reported_keys = keys;
                }
                uint64_t collisions = skel.bss->stack_id_collisions;
                uint64_t no_memory = skel.bss->stack_id_no_memory;
                if (collisions + no_memory > reported_stacks) {
                    report_missed_stacks(collisions, no_memory, settings.storage_size, options,
                                         out);
                    reported_stacks = collisions + no_memory;
                }
            };
            // Each interval takes its waits; the mappings of processes are
            // read as they show up, so a process that exits before the
            // interval ends still has its frames named.
            StackSummaryHooks<futexctn_key> hooks;
            hooks.take_each_print = true;
            if (!settings.stacks) hooks.remember = [](StackCollector&, const futexctn_key&) {};
            return StackSummary<futexctn_key, futexctn_value, Printer>(
                skel.maps.waits, FUTEXCTN_MAX_KEYS, skel.maps.stack_traces,
                Printer(options, settings, out), report, std::move(hooks));
        });
}

} // namespace corescope::tools
