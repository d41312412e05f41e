// softirqs: time spent in each softirq vector, as totals or log2
// histograms, per interval; with --slower, each softirq run slower than a
// threshold as an event.
#include "decoder.h"
#include "event_fields.h"
#include "export_collector.h"
#include "irq_times.h"
#include "map_reader.h"
#include "run.h"

#include "softirqs.skel.h"
#include "softirqs/softirqs.h"
#include <linux/types.h>

#include <cstddef>

namespace corescope::tools {

namespace {

constexpr IrqKind softirq_kind{"vec", "SOFTIRQ", 16, "softirq"};

void add_value(softirqs_value& sum, const softirqs_value& one) {
    sum.count += one.count;
    sum.total_ns += one.total_ns;
    for (int i = 0; i < SOFTIRQS_SLOTS; i++)
        sum.slots[i] += one.slots[i];
}

using Entry = MapEntry<uint32_t, softirqs_value>;

std::vector<IrqTimeRow> rows_of(const std::vector<Entry>& entries) {
    std::vector<IrqTimeRow> rows;
    for (const Entry& e : entries)
        if (e.value.count)
            rows.push_back({e.key, softirq_vector_name(e.key), e.value.count, e.value.total_ns,
                            std::vector<uint64_t>(e.value.slots, e.value.slots + SOFTIRQS_SLOTS)});
    return rows;
}

// --slower's events.
struct SlowPrinter {
    RecordLayout layout() const {
        // No UID: the task a softirq interrupted did not ask for it.
        return {task_time | task_pid | task_tid | task_comm,
                {column("softirq", "SOFTIRQ", 8), json_field("vec"),
                 column("cpu", "CPU", 3, Align::right),
                 with_text_decimals(3, column("run_ms", "LAT(ms)", 9, Align::right)),
                 with_text_decimals(3, column("wait_ms", "WAIT(ms)", 9, Align::right)),
                 pid_column(), comm_column()}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<softirqs_event>(data, size);
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        r.text(softirq_vector_name(e->vec))
            .number(e->vec)
            .number(e->cpu)
            .real(static_cast<double>(e->run_ns) / 1e6);
        if (e->wait_ns)
            r.real(static_cast<double>(e->wait_ns) / 1e6);
        else
            r.null();
        r.end();
    }
};

// One step: an exit is paired with the entry its own tier stamped (and,
// with --slower, an entry with the raise).
std::vector<AttachStep> attach_steps(bool slower) {
    std::vector<TracepointProgram> programs;
    if (slower) programs.push_back({"raise", "irq:softirq_raise"});
    programs.push_back({"entry", "irq:softirq_entry"});
    programs.push_back({"exit", "irq:softirq_exit"});
    return {tracepoint_tiers(slower ? "softirq raise, entry and exit" : "softirq entry and exit",
                             programs)};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): map entries (vector,
// then its figures summed over the CPUs) of one interval; variant bit 0:
// --distributed, bit 1: -C, bit 2: -N; bit 3: --slower's events instead.
void decode_softirqs(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    if (variant & 8) return decode_events(SlowPrinter{}, options, out, events);
    IrqTimeSettings settings{.distributed = (variant & 1) != 0,
                             .counts = (variant & 2) != 0,
                             .nanoseconds = (variant & 4) != 0};
    IrqTimePrinter(options, settings, softirq_kind, out)
        .print(rows_of(recorded_entries<uint32_t, softirqs_value>(events)));
}

int softirqs(int argc, char** argv) {
    CommonOptions options;
    IrqTimeSettings settings;
    std::optional<double> slower_ms;
    CommandLine cli(
        "softirqs", "Summarize time spent in softirqs, or trace slow ones.",
        {Flag::time, Flag::duration, Flag::milliseconds, Flag::interval, Flag::prometheus});
    cli.add_switch('D', "distributed", "one histogram of run times per vector (classic -d)",
                   &settings.distributed);
    cli.add_switch('C', "count", "show how often each vector ran instead of its time",
                   &settings.counts);
    cli.add_switch('N', "nanoseconds", "times in nanoseconds", &settings.nanoseconds);
    cli.add_option(0, "slower", "MS",
                   "print each softirq that ran, or waited from its raise, at least MS "
                   "milliseconds (softirqslower)",
                   [&](std::string_view v) { slower_ms = parse_milliseconds("--slower", v); });
    cli.set_examples("  softirqs                  time per vector, printed at Ctrl-C\n"
                     "  softirqs 1 10             ten 1-second summaries\n"
                     "  softirqs -C 1             how often each vector ran, every second\n"
                     "  softirqs -D               a histogram of run times per vector\n"
                     "  softirqs --slower 1       each softirq that ran or waited 1 ms or more\n"
                     "  softirqs -o json 5        a JSON Lines record every 5 seconds\n"
                     "  softirqs -o prometheus -d 60   runs and time per vector for Prometheus\n");
    cli.exclusive({"-N", "-m"}, "pick one unit");
    cli.exclusive({"-C", "--distributed"}, "histograms are of times");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (slower_ms && (options.interval || settings.distributed || settings.counts ||
                      settings.nanoseconds || options.milliseconds))
        throw UsageError("--slower prints events in milliseconds: interval, -D, -C, -N and -m "
                         "are for summaries");

    bool prometheus = options.format == OutputFormat::prometheus;
    if (prometheus &&
        (slower_ms || settings.counts || settings.nanoseconds || options.milliseconds))
        throw UsageError("-o prometheus counts runs and seconds of each vector: --slower, -C, -N "
                         "and -m do not apply");

    EventStreamConfig events;
    if (!slower_ms) events.ring_bytes = 4096; // summaries send no events
    ToolSpec<softirqs_bpf> spec{
        .name = "softirqs",
        .options = options,
        .attach_steps = [&] { return attach_steps(slower_ms.has_value()); },
        .events = events,
        .configure =
            [&](softirqs_bpf& skel, const AttachPlan&) {
                skel.rodata->distributed = settings.distributed;
                skel.rodata->unit_ns = irq_time_unit_ns(options, settings);
                skel.rodata->slower = slower_ms.has_value();
                skel.rodata->threshold_ns = static_cast<uint64_t>(slower_ms.value_or(0) * 1e6);
            },
        .events_or_summary = true,
        .announcement = slower_ms ? "Tracing slow softirqs... Hit Ctrl-C to end."
                                  : "Tracing softirqs... Hit Ctrl-C to end."};
    if (slower_ms) return run_event_tool(spec, SlowPrinter{});
    if (prometheus)
        return print_prometheus(spec, [&, unit_ns = irq_time_unit_ns(options, settings)](
                                          softirqs_bpf& skel, Exposition& out) {
            add_irq_metrics(out,
                            {"corescope_softirqs", "corescope_softirq_seconds",
                             "corescope_softirq_duration_seconds", "softirq vector", "softirqs"},
                            rows_of(read_percpu_map<uint32_t, softirqs_value>(
                                skel.maps.vectors, add_value, SOFTIRQS_VECTORS)),
                            settings.distributed, unit_ns, [](const IrqTimeRow& row) {
                                return Labels{{"vector", row.name}};
                            });
        });
    return run_summary_tool(spec, [&](softirqs_bpf& skel, const AttachPlan&, Output& out) {
        return [printer = IrqTimePrinter(options, settings, softirq_kind, out),
                deltas = IrqTimeDeltas(), vectors = skel.maps.vectors]() mutable {
            printer.print(deltas.interval(rows_of(
                read_percpu_map<uint32_t, softirqs_value>(vectors, add_value, SOFTIRQS_VECTORS))));
        };
    });
}

} // namespace corescope::tools
