// runqlat: run-queue (scheduler) latency as log2 histograms, in all or per
// process, thread or PID namespace.
#include "decoder.h"
#include "export_collector.h"
#include "map_reader.h"
#include "run.h"
#include "run_queue.h"
#include "task_filters.h"
#include "task_histograms.h"

#include "runqlat.skel.h"
#include "runqlat/runqlat.h"
#include <linux/types.h>

#include <cerrno>

namespace corescope::tools {

namespace {

struct Settings {
    bool per_process = false; // -P
    bool per_thread = false;  // -L
    bool per_pidns = false;   // --pidnss

    task_hist_split split() const {
        if (per_process) return TASK_HIST_PER_PROCESS;
        if (per_thread) return TASK_HIST_PER_THREAD;
        if (per_pidns) return TASK_HIST_PER_PIDNS;
        return TASK_HIST_ALL;
    }
};

// Between open and load: the split, the unit, and the maps the plan's tier
// uses.
void configure(runqlat_bpf& skel, const AttachPlan& plan, const Settings& settings,
               const CommonOptions& options) {
    skel.rodata->hist_split = settings.split();
    skel.rodata->hist_unit_ns = options.milliseconds ? 1000000 : 1000;
    configure_run_queue_stamps(skel, plan);
}

} // namespace

// corescope export: one histogram of every run-queue wait, in seconds, with
// the kernel's sum of the waits.
std::unique_ptr<ExportCollector> export_runqlat(const CommonOptions& options) {
    return export_collector<runqlat_bpf>(
        {.name = "runqlat",
         .options = options,
         .attach_steps = run_queue_attach_steps,
         .configure =
             [&](runqlat_bpf& skel, const AttachPlan& plan) {
                 configure(skel, plan, Settings{}, options);
                 skel.rodata->hist_keep_sum = true;
             }},
        [](runqlat_bpf& skel, Exposition& out) {
            TaskHistTotal total = total_task_histogram(skel.maps.hists, skel.bss->hist_sum_ns);
            out.family("corescope_runqueue_latency_seconds", MetricType::histogram,
                       "Time tasks waited on a run queue before running, from runqlat.", "seconds")
                .add({}, log2_histogram(total.slots, export_us, total.sum_s));
        });
}

// One map entry's bytes (key, then histogram and name) through the
// printer, for tests/fuzz (common/decoder.h); variant bits 0-1: the split
// (none, -P, -L, --pidnss).
void decode_runqlat(const CommonOptions& options, uint32_t variant, Output& out,
                    std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_process = (variant & 3) == 1;
    settings.per_thread = (variant & 3) == 2;
    settings.per_pidns = (variant & 3) == 3;
    TaskHistogramPrinter(options, settings.split(), out, false)
        .print(recorded_entries<uint32_t, task_hist>(events));
}

int runqlat(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("runqlat", "Summarize run queue (scheduler) latency as a histogram.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::milliseconds, Flag::interval, Flag::prometheus});
    cli.add_switch('P', "pids", "one histogram per process", &settings.per_process);
    cli.add_switch('L', "tids", "one histogram per thread", &settings.per_thread);
    cli.add_switch(0, "pidnss", "one histogram per PID namespace", &settings.per_pidns);
    cli.set_examples("  runqlat                   one histogram, printed at Ctrl-C\n"
                     "  runqlat 1 10              ten 1-second histograms\n"
                     "  runqlat -mT 1             per second, in milliseconds, with times\n"
                     "  runqlat -P                one histogram per process\n"
                     "  runqlat -p 185            process 185 only\n"
                     "  runqlat --pidnss          one histogram per PID namespace (container)\n"
                     "  runqlat -c /sys/fs/cgroup/system.slice/nginx.service\n"
                     "  runqlat -o json 5         a JSON Lines record every 5 seconds\n");
    cli.exclusive({"-P", "-L", "--pidnss"}, "pick one way to split");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (options.format == OutputFormat::prometheus) {
        if (settings.per_process || settings.per_thread || settings.per_pidns ||
            options.milliseconds)
            throw UsageError("-o prometheus prints one histogram in seconds: -P, -L, --pidnss "
                             "and -m do not apply");
        return print_expositions(export_runqlat(options), options);
    }

    return run_summary_tool<runqlat_bpf>(
        {.name = "runqlat",
         .options = options,
         .attach_steps = run_queue_attach_steps,
         .configure = [&](runqlat_bpf& skel,
                          const AttachPlan& plan) { configure(skel, plan, settings, options); },
         .announcement = "Tracing run queue latency... Hit Ctrl-C to end."},
        [&](runqlat_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = TaskHistogramPrinter(options, settings.split(), out, true),
                    hists = skel.maps.hists]() mutable {
                printer.print(take_map<uint32_t, task_hist>(hists, TASK_HIST_MAX_KEYS));
            };
        });
}

} // namespace corescope::tools
