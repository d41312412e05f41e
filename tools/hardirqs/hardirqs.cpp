// hardirqs: time spent in hard IRQ handlers, per handler, as totals or
// log2 histograms, per interval.
#include "decoder.h"
#include "export_collector.h"
#include "irq_times.h"
#include "map_reader.h"
#include "run.h"

#include "hardirqs.skel.h"
#include "hardirqs/hardirqs.h"
#include <linux/types.h>

namespace corescope::tools {

namespace {

constexpr IrqKind hardirq_kind{"irq", "HARDIRQ", 26, "hardirq"};

using Entry = MapEntry<hardirq_key, hardirqs_value>;

std::vector<IrqTimeRow> rows_of(const std::vector<Entry>& entries) {
    std::vector<IrqTimeRow> rows;
    for (const Entry& e : entries)
        rows.push_back({e.key.irq, std::string(fixed_string(e.key.name)), e.value.count,
                        e.value.total_ns,
                        std::vector<uint64_t>(e.value.slots, e.value.slots + HARDIRQS_SLOTS)});
    return rows;
}

// One step: an exit is paired with the entry its own tier stamped.
std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers(
        "hard IRQ handler entry and exit",
        {{"hardirq_entry", "irq:irq_handler_entry"}, {"hardirq_exit", "irq:irq_handler_exit"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): map entries (key,
// then value) of one interval; variant bit 0: --distributed, bit 1: -C,
// bit 2: -N.
void decode_hardirqs(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    IrqTimeSettings settings{.distributed = (variant & 1) != 0,
                             .counts = (variant & 2) != 0,
                             .nanoseconds = (variant & 4) != 0};
    IrqTimePrinter(options, settings, hardirq_kind, out)
        .print(rows_of(recorded_entries<hardirq_key, hardirqs_value>(events)));
}

int hardirqs(int argc, char** argv) {
    CommonOptions options;
    IrqTimeSettings settings;
    CommandLine cli(
        "hardirqs", "Summarize time spent in hard IRQ handlers.",
        {Flag::time, Flag::duration, Flag::milliseconds, Flag::interval, Flag::prometheus});
    cli.add_switch('D', "distributed", "one histogram of run times per handler (classic -d)",
                   &settings.distributed);
    cli.add_switch('C', "count", "show how often each handler ran instead of its time",
                   &settings.counts);
    cli.add_switch('N', "nanoseconds", "times in nanoseconds", &settings.nanoseconds);
    cli.set_examples("  hardirqs                  time per handler, printed at Ctrl-C\n"
                     "  hardirqs 1 10             ten 1-second summaries\n"
                     "  hardirqs -C 1             how often each handler ran, every second\n"
                     "  hardirqs -D               a histogram of run times per handler\n"
                     "  hardirqs -NT 1            every second, in nanoseconds, with times\n"
                     "  hardirqs -o json 5        a JSON Lines record every 5 seconds\n"
                     "  hardirqs -o prometheus -d 60   runs and time per handler for Prometheus\n");
    cli.exclusive({"-N", "-m"}, "pick one unit");
    cli.exclusive({"-C", "--distributed"}, "histograms are of times");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    bool prometheus = options.format == OutputFormat::prometheus;
    if (prometheus && (settings.counts || settings.nanoseconds || options.milliseconds))
        throw UsageError("-o prometheus counts runs and seconds: -C, -N and -m do not apply");

    ToolSpec<hardirqs_bpf> spec{.name = "hardirqs",
                                .options = options,
                                .attach_steps = attach_steps,
                                .configure =
                                    [&](hardirqs_bpf& skel, const AttachPlan&) {
                                        skel.rodata->distributed = settings.distributed;
                                        skel.rodata->unit_ns = irq_time_unit_ns(options, settings);
                                    },
                                .announcement = "Tracing hard IRQ handlers... Hit Ctrl-C to end."};
    if (prometheus)
        return print_prometheus(spec, [&, unit_ns = irq_time_unit_ns(options, settings)](
                                          hardirqs_bpf& skel, Exposition& out) {
            add_irq_metrics(
                out,
                {"corescope_hardirqs", "corescope_hardirq_seconds",
                 "corescope_hardirq_duration_seconds", "hard IRQ handler", "hardirqs"},
                rows_of(
                    read_map<hardirq_key, hardirqs_value>(skel.maps.handlers, HARDIRQS_MAX_KEYS)),
                settings.distributed, unit_ns, [](const IrqTimeRow& row) {
                    return Labels{{"irq", std::to_string(row.id)}, {"handler", row.name}};
                });
        });
    return run_summary_tool<hardirqs_bpf>(
        spec, [&](hardirqs_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = IrqTimePrinter(options, settings, hardirq_kind, out),
                    deltas = IrqTimeDeltas(), handlers = skel.maps.handlers]() mutable {
                printer.print(deltas.interval(
                    rows_of(read_map<hardirq_key, hardirqs_value>(handlers, HARDIRQS_MAX_KEYS))));
            };
        });
}

} // namespace corescope::tools
