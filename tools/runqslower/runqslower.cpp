// runqslower: every wait on a run queue longer than a threshold, with the
// task that waited and (-P) the one it took the CPU from.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"
#include "run_queue.h"

#include <linux/types.h>
#include "runqslower/runqslower.h"
#include "runqslower.skel.h"

namespace corescope::tools {

namespace {

struct Printer {
    bool previous = false; // -P: the previous task's columns in text

    RecordLayout layout() const {
        return {task_time | task_pid | task_tid | task_comm,
                {time_column(), comm_column(), tid_column("TID", 6),
                 column("latency_us", "LAT(us)", 14, Align::right), json_field("cpu"),
                 shown_if(previous, text_column("PREV COMM", 16)),
                 shown_if(previous, text_column("PREV TID", 8, Align::right)),
                 json_field("prev_comm"), json_field("prev_tid")}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<runqslower_event>(data, size);
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        std::string_view prev_comm = fixed_string(e->prev_comm);
        r.number(e->wait_ns / 1000)
            .number(e->cpu)
            .text(prev_comm)
            .number(e->prev_tid)
            .text(prev_comm)
            .number(e->prev_tid)
            .end();
    }
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: -P.
void decode_runqslower(const CommonOptions& options, uint32_t variant, Output& out,
                       std::span<const RecordedEvent> events) {
    decode_events(Printer{.previous = (variant & 1) != 0}, options, out, events);
}

int runqslower(int argc, char** argv) {
    CommonOptions options;
    Printer printer;
    double min_us = 10000;
    std::string min_given;
    auto set_min = [&](const std::string& how, double us) {
        if (!min_given.empty())
            throw UsageError("the minimum wait is given twice (" + min_given + " and " + how +
                             "): give --min MS or min_us, once");
        min_given = how;
        min_us = us;
    };
    CommandLine cli("runqslower", "Trace run queue (scheduler) waits longer than a threshold.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::duration});
    cli.add_switch('P', "previous", "also show the task that had the CPU (PREV COMM, PREV TID)",
                   &printer.previous);
    cli.add_option(0, "min", "MS", "only waits of at least this many milliseconds (default 10)",
                   [&](std::string_view v) {
                       set_min("--min", parse_milliseconds("minimum wait", v) * 1000);
                   });
    cli.set_positional("min_us", "only waits of at least this many microseconds (default 10000)",
                       [&](std::string_view v) {
                           set_min("min_us", static_cast<double>(parse_unsigned(
                                                 "minimum wait", v, 0, 3600ULL * 1000 * 1000)));
                       });
    cli.set_examples("  runqslower                waits of 10 ms or more\n"
                     "  runqslower 1000           waits of 1 ms (1000 us) or more\n"
                     "  runqslower --min 1        the same\n"
                     "  runqslower -P             with the task that had the CPU\n"
                     "  runqslower -p 185         process 185 only\n"
                     "  runqslower -o json -d 60  a minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    char min_text[32];
    snprintf(min_text, sizeof min_text, "%g", min_us);
    return run_event_tool<runqslower_bpf>(
        {.name = "runqslower",
         .options = options,
         .attach_steps = run_queue_attach_steps,
         .configure =
             [&](runqslower_bpf& skel, const AttachPlan& plan) {
                 skel.rodata->min_wait_ns = milliseconds_to_ns(min_us / 1000);
                 configure_run_queue_stamps(skel, plan);
             },
         .announcement = std::string("Tracing run queue waits of ") + min_text +
                         " us or more... Hit Ctrl-C to end."},
        printer);
}

} // namespace corescope::tools
