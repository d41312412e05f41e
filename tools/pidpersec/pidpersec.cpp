// pidpersec: new processes (and new threads) per second, every interval.
#include "decoder.h"
#include "export_collector.h"
#include "map_reader.h"
#include "run.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

#include "pidpersec.skel.h"
#include "pidpersec/pidpersec.h"

namespace corescope::tools {

namespace {

void add_counts(pidpersec_counts& sum, const pidpersec_counts& one) {
    sum.processes += one.processes;
    sum.threads += one.threads;
}

pidpersec_counts read_counts(const bpf_map* map) {
    auto entries = read_percpu_map<uint32_t, pidpersec_counts>(map, add_counts);
    if (entries.empty()) throw RuntimeError("cannot read the new-task counters");
    return entries.front().value;
}

// One line per interval: what the counters added since the last one, and
// that over the interval's length.
class Printer {
  public:
    Printer(const CommonOptions& options, Output& out, pidpersec_counts start)
        : records_(options, out, layout()), before_(start) {
        records_.header();
    }

    void print(const pidpersec_counts& now, double seconds) {
        uint64_t processes = now.processes - before_.processes;
        uint64_t threads = now.threads - before_.threads;
        before_ = now;
        auto rate = [&](uint64_t n) { return seconds > 0 ? static_cast<double>(n) / seconds : 0; };
        records_.begin()
            .text(iso_time_now())
            .real(seconds)
            .number(processes)
            .number(threads)
            .real(rate(processes))
            .real(rate(threads))
            .end();
    }

  private:
    static RecordLayout layout() {
        return {0,
                {json_field("time"), json_field("interval_s"), json_field("processes"),
                 json_field("threads"),
                 with_text_decimals(1, column("processes_per_s", "PIDS/s", 10, Align::right)),
                 with_text_decimals(1, column("threads_per_s", "THREADS/s", 10, Align::right))}};
    }

    RecordWriter records_;
    pidpersec_counts before_;
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("new tasks", {{"fork", "sched:sched_process_fork"}})};
}

// -o prometheus: the counters since the start.
void collect(pidpersec_bpf& skel, Exposition& out) {
    pidpersec_counts now = read_counts(skel.maps.counts);
    out.family("corescope_new_processes", MetricType::counter,
               "New processes (forks that made a thread group), from pidpersec.")
        .add({}, static_cast<double>(now.processes));
    out.family("corescope_new_threads", MetricType::counter,
               "New threads (clones into an existing thread group), from pidpersec.")
        .add({}, static_cast<double>(now.threads));
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the counters at the
// end of each one-second interval (key, then pidpersec_counts summed over
// the CPUs), the first interval counted from zero.
void decode_pidpersec(const CommonOptions& options, uint32_t, Output& out,
                      std::span<const RecordedEvent> events) {
    decode_intervals<pidpersec_counts>(Printer(options, out, {}), events);
}

int pidpersec(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("pidpersec",
                    "Count new processes (and threads) per second, every interval (default 1 s).",
                    {Flag::time, Flag::duration, Flag::interval, Flag::prometheus});
    cli.set_examples("  pidpersec                 a line every second until Ctrl-C\n"
                     "  pidpersec -T 5            every 5 seconds, with times\n"
                     "  pidpersec 1 10            ten one-second lines\n"
                     "  pidpersec -o json -d 60   one minute of JSON Lines\n"
                     "  pidpersec -o prometheus -d 60   the counts as a Prometheus exposition\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    bool prometheus = options.format == OutputFormat::prometheus;
    // A Prometheus exposition once at the end unless an interval is given.
    if (!options.interval && !prometheus) options.interval = 1;

    ToolSpec<pidpersec_bpf> spec{.name = "pidpersec",
                                 .options = options,
                                 .attach_steps = attach_steps,
                                 .announcement = "Counting new processes... Hit Ctrl-C to end."};
    if (prometheus) return print_prometheus(spec, collect);
    return run_summary_tool<pidpersec_bpf>(
        spec, [&](pidpersec_bpf& skel, const AttachPlan&, Output& out) {
            // Counted from zero, not from a read here (common/run.h says why).
            return print_rates(Printer(options, out, pidpersec_counts{}),
                               [counts = skel.maps.counts] { return read_counts(counts); });
        });
}

} // namespace corescope::tools
