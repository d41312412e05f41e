// cpudist: on-CPU time per scheduling (or with -O off-CPU time) as log2
// histograms, in all or per process or thread.
#include "decoder.h"
#include "export_collector.h"
#include "map_reader.h"
#include "run.h"
#include "task_filters.h"
#include "task_histograms.h"

#include "cpudist.skel.h"
#include "cpudist/cpudist.h"
#include <linux/types.h>

#include <cerrno>

namespace corescope::tools {

namespace {

struct Settings {
    bool offcpu = false;      // -O
    bool per_process = false; // -P
    bool per_thread = false;  // -L

    task_hist_split split() const {
        if (per_process) return TASK_HIST_PER_PROCESS;
        if (per_thread) return TASK_HIST_PER_THREAD;
        return TASK_HIST_ALL;
    }
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("context switches", {{"switch", "sched:sched_switch"}})};
}

} // namespace

// One map entry's bytes (key, then histogram and name) through the
// printer, for tests/fuzz (common/decoder.h); variant bits 0-1: the split
// (none, -P, -L).
void decode_cpudist(const CommonOptions& options, uint32_t variant, Output& out,
                    std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_process = (variant & 3) == 1;
    settings.per_thread = (variant & 3) == 2;
    TaskHistogramPrinter(options, settings.split(), out, false)
        .print(recorded_entries<uint32_t, task_hist>(events));
}

int cpudist(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("cpudist", "Summarize on-CPU time per task as a histogram.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::milliseconds, Flag::interval, Flag::prometheus});
    cli.add_switch('O', "offcpu", "off-CPU time (from leaving a CPU to running again)",
                   &settings.offcpu);
    cli.add_switch('P', "pids", "one histogram per process", &settings.per_process);
    cli.add_switch('L', "tids", "one histogram per thread", &settings.per_thread);
    cli.set_examples("  cpudist                   on-CPU times, one histogram, printed at Ctrl-C\n"
                     "  cpudist -O                off-CPU times instead\n"
                     "  cpudist 1 10              ten 1-second histograms\n"
                     "  cpudist -mT 1             per second, in milliseconds, with times\n"
                     "  cpudist -P                one histogram per process\n"
                     "  cpudist -L -p 185         one per thread of process 185\n"
                     "  cpudist -c /sys/fs/cgroup/system.slice/nginx.service\n"
                     "  cpudist -o json 5         a JSON Lines record every 5 seconds\n"
                     "  cpudist -o prometheus -d 60   one histogram in seconds for Prometheus\n");
    cli.exclusive({"-P", "-L"}, "pick one way to split");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    bool prometheus = options.format == OutputFormat::prometheus;
    if (prometheus && (settings.per_process || settings.per_thread || options.milliseconds))
        throw UsageError("-o prometheus prints one histogram in seconds: -P, -L and -m do not "
                         "apply");

    ToolSpec<cpudist_bpf> spec{
        .name = "cpudist",
        .options = options,
        .attach_steps = attach_steps,
        .configure =
            [&](cpudist_bpf& skel, const AttachPlan& plan) {
                skel.rodata->offcpu = settings.offcpu;
                skel.rodata->hist_split = settings.split();
                skel.rodata->hist_unit_ns = options.milliseconds ? 1000000 : 1000;
                skel.rodata->hist_keep_sum = prometheus;
                // Each tier keeps its stamps in its own map; the others shrink
                // to nothing (task storage is not even created: a kernel before
                // 5.11 has none, and only the tp_btf tier can use it).
                bool typed = plan.uses("btf_switch");
                if (int err = bpf_map__set_autocreate(skel.maps.task_stamp, typed))
                    throw RuntimeError(errno_message("cannot leave out task storage", err));
                if (typed) set_map_entries(skel.maps.stamps, 1);
                if (!plan.uses("tp_switch") || !settings.offcpu)
                    set_map_entries(skel.maps.pending, 1);
            },
        .announcement = settings.offcpu ? "Tracing off-CPU time... Hit Ctrl-C to end."
                                        : "Tracing on-CPU time... Hit Ctrl-C to end."};
    if (prometheus)
        // As corescope export's run-queue latency: the slots of every key
        // (one, unsplit) and the kernel's sum of the times.
        return print_prometheus(
            spec, [offcpu = settings.offcpu](cpudist_bpf& skel, Exposition& out) {
                TaskHistTotal total = total_task_histogram(skel.maps.hists, skel.bss->hist_sum_ns);
                out.family(offcpu ? "corescope_offcpu_duration_seconds"
                                  : "corescope_oncpu_duration_seconds",
                           MetricType::histogram,
                           offcpu ? "Time tasks spent off a CPU, from leaving it to running again, "
                                    "from cpudist -O."
                                  : "Time tasks ran on a CPU each time they were scheduled, from "
                                    "cpudist.",
                           "seconds")
                    .add({}, log2_histogram(total.slots, export_us, total.sum_s));
            });
    return run_summary_tool<cpudist_bpf>(
        spec, [&](cpudist_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = TaskHistogramPrinter(options, settings.split(), out, true),
                    hists = skel.maps.hists]() mutable {
                printer.print(take_map<uint32_t, task_hist>(hists, TASK_HIST_MAX_KEYS));
            };
        });
}

} // namespace corescope::tools
