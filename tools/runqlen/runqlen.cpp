// runqlen: sample each CPU's run-queue length at a fixed rate and print the
// lengths as a linear histogram (all CPUs, or -C one per CPU), or -O the
// run-queue occupancy (the share of samples with a task waiting), every
// interval or at the end.
#include "decoder.h"
#include "export_collector.h"
#include "histogram_printer.h"
#include "map_reader.h"
#include "run.h"
#include "text_file.h"

#include "runqlen.skel.h"
#include "runqlen/runqlen.h"
#include <linux/perf_event.h>
#include <linux/types.h>

#include <algorithm>
#include <cstdlib>
#include <map>

namespace corescope::tools {

namespace {

constexpr uint64_t default_frequency = 99; // Hz, as the classic tool samples
constexpr uint64_t max_frequency = 100000; // the kernel's usual perf_event_max_sample_rate ceiling

struct Settings {
    uint64_t frequency = default_frequency; // -f
    bool per_cpu = false;                   // -C
    bool occupancy = false;                 // -O
};

// The kernel lowers kernel.perf_event_max_sample_rate by itself when
// sampling interrupts take too long; above it, perf_event_open fails.
void require_frequency_allowed(uint64_t frequency) {
    std::string text = read_first_line("/proc/sys/kernel/perf_event_max_sample_rate").value_or("");
    uint64_t max = std::strtoull(text.c_str(), nullptr, 10);
    if (max == 0 || frequency <= max) return;
    throw UsageError("invalid frequency '" + std::to_string(frequency) +
                     "': above this kernel's limit of " + std::to_string(max) +
                     " (kernel.perf_event_max_sample_rate)");
}

// The software CPU clock, which every kernel has (a VM may lack a hardware PMU).
std::vector<AttachStep> attach_steps(const Settings& settings) {
    AttachPoint point{"sample", AttachKind::perf_event, "cpu-clock"};
    point.perf_event.type = PERF_TYPE_SOFTWARE;
    point.perf_event.config = PERF_COUNT_SW_CPU_CLOCK;
    point.perf_event.frequency = settings.frequency;
    return {{"timed run-queue samples", {{{point}}}}};
}

using Entry = MapEntry<__u32, runqlen_value>;
using Slots = std::vector<uint64_t>;

// One CPU's samples over an interval, by queue length.
struct CpuSamples {
    uint32_t cpu;
    Slots slots;
};

std::vector<CpuSamples> samples_of(const std::vector<Entry>& entries) {
    std::vector<CpuSamples> out;
    for (const Entry& e : entries)
        out.push_back({e.key, Slots(e.value.slots, e.value.slots + RUNQLEN_SLOTS)});
    return out;
}

// The map holds counts since the start; each interval prints what they gained.
class IntervalSamples {
  public:
    std::vector<CpuSamples> interval(std::vector<CpuSamples> now) {
        std::vector<CpuSamples> gained;
        for (CpuSamples& c : now) {
            Slots& before = last_[c.cpu];
            before.resize(c.slots.size());
            CpuSamples delta{c.cpu, c.slots};
            for (size_t i = 0; i < delta.slots.size(); i++)
                delta.slots[i] -= std::min(delta.slots[i], before[i]);
            before = std::move(c.slots);
            gained.push_back(std::move(delta));
        }
        return gained;
    }

  private:
    std::map<uint32_t, Slots> last_;
};

RecordLayout occupancy_layout(const Settings& settings) {
    return {0,
            {json_field("type"), json_field("time"), json_field("interval_s"),
             shown_if(settings.per_cpu, column("cpu", "CPU", 5)), json_field("samples"),
             json_field("queued"),
             with_suffix("%", with_decimals(2, column("percent", "RUNQOCC", 8, Align::right)))}};
}

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : settings_(settings), histograms_(options, out,
                                           settings.per_cpu ? std::vector<Field>{json_field("cpu")}
                                                            : std::vector<Field>{},
                                           "runqlen"),
          occupancy_(options, out, occupancy_layout(settings)), last_s_(monotonic_seconds()) {}

    void header() {
        if (settings_.occupancy) occupancy_.header();
    }

    void print(std::vector<CpuSamples> cpus) {
        std::sort(cpus.begin(), cpus.end(),
                  [](const CpuSamples& a, const CpuSamples& b) { return a.cpu < b.cpu; });
        // A CPU without samples was offline (or the tool just started): not shown.
        std::erase_if(cpus, [](const CpuSamples& c) { return Histogram::linear(c.slots).empty(); });
        if (!settings_.per_cpu) {
            CpuSamples all{0, Slots(RUNQLEN_SLOTS)};
            for (const CpuSamples& c : cpus)
                for (size_t i = 0; i < c.slots.size() && i < all.slots.size(); i++)
                    all.slots[i] += c.slots[i];
            cpus = {all};
        }
        if (settings_.occupancy)
            print_occupancy(cpus);
        else
            print_histograms(cpus);
    }

  private:
    void print_histograms(const std::vector<CpuSamples>& cpus) {
        histograms_.begin_interval();
        for (const CpuSamples& c : cpus)
            histograms_.print(
                Histogram::linear(c.slots),
                [&](Record& r) {
                    if (settings_.per_cpu) r.number(c.cpu);
                },
                [&] { return settings_.per_cpu ? "cpu = " + std::to_string(c.cpu) : ""; });
    }

    void print_occupancy(const std::vector<CpuSamples>& cpus) {
        double now = monotonic_seconds();
        double span = now - last_s_;
        last_s_ = now;
        std::string time = iso_time_now();
        for (const CpuSamples& c : cpus) {
            uint64_t samples = Histogram::linear(c.slots).total();
            uint64_t queued = samples - (c.slots.empty() ? 0 : c.slots[0]);
            double percent = samples ? 100.0 * static_cast<double>(queued) / samples : 0;
            occupancy_.begin()
                .text("occupancy")
                .text(time)
                .real(span)
                .number(c.cpu)
                .number(samples)
                .number(queued)
                .real(percent)
                .end();
        }
    }

    Settings settings_;
    HistogramPrinter histograms_;
    RecordWriter occupancy_;
    double last_s_;
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the map's entries (the
// CPU, then its slots) of one interval; variant bit 0: -C, bit 1: -O.
void decode_runqlen(const CommonOptions& options, uint32_t variant, Output& out,
                    std::span<const RecordedEvent> events) {
    Settings settings{.per_cpu = (variant & 1) != 0, .occupancy = (variant & 2) != 0};
    Printer printer(options, settings, out);
    printer.header();
    printer.print(samples_of(recorded_entries<__u32, runqlen_value>(events)));
}

int runqlen(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("runqlen", "Sample each CPU's run-queue length at a fixed rate.",
                    {Flag::time, Flag::duration, Flag::interval, Flag::prometheus});
    cli.add_option('f', "frequency", "HZ", "samples a second on each CPU (default 99)",
                   [&](std::string_view v) {
                       settings.frequency = parse_unsigned("frequency", v, 1, max_frequency);
                   });
    cli.add_switch('C', "cpus", "one histogram (or occupancy) per CPU", &settings.per_cpu);
    cli.add_switch('O', "runqocc", "run-queue occupancy: the share of samples with a task waiting",
                   &settings.occupancy);
    cli.set_examples("  runqlen                 all CPUs, printed at Ctrl-C\n"
                     "  runqlen -C 1 5          one histogram per CPU, every second, 5 times\n"
                     "  runqlen -O -C 1         occupancy per CPU every second\n"
                     "  runqlen -f 999 -d 10    at 999 Hz for 10 seconds\n"
                     "  runqlen -o json -T 5    a JSON Lines record every 5 seconds\n"
                     "  runqlen -o prometheus -d 60   one histogram for Prometheus");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    bool prometheus = options.format == OutputFormat::prometheus;
    if (prometheus && (settings.per_cpu || settings.occupancy))
        throw UsageError("-o prometheus prints one histogram of every CPU's samples: -C and -O "
                         "do not apply (occupancy is 1 - the le=\"0\" bucket / the count)");
    require_frequency_allowed(settings.frequency);

    ToolSpec<runqlen_bpf> spec{.name = "runqlen",
                               .options = options,
                               .attach_steps = [&] { return attach_steps(settings); },
                               .configure =
                                   [&](runqlen_bpf& skel, const AttachPlan&) {
                                       set_map_entries(skel.maps.cpus, possible_cpus());
                                       skel.rodata->keep_sums = prometheus;
                                   },
                               .announcement = "Sampling run queue length at " +
                                               std::to_string(settings.frequency) +
                                               " Hertz... Hit Ctrl-C to end."};
    if (prometheus)
        // A linear histogram: slot i holds the samples of length i, the
        // last one also those above it, so that one only in +Inf.
        return print_prometheus(spec, [](runqlen_bpf& skel, Exposition& out) {
            HistogramValue h;
            h.counts.assign(RUNQLEN_SLOTS, 0);
            for (const Entry& e : read_map<__u32, runqlen_value>(skel.maps.cpus))
                for (size_t i = 0; i < RUNQLEN_SLOTS; i++)
                    h.counts[i] += e.value.slots[i];
            for (size_t i = 0; i + 1 < RUNQLEN_SLOTS; i++)
                h.bounds.push_back(static_cast<double>(i));
            h.sum = static_cast<double>(__atomic_load_n(&skel.bss->length_sum, __ATOMIC_RELAXED));
            out.family("corescope_runqueue_length", MetricType::histogram,
                       "Tasks waiting in a CPU's run queue (the running one not counted), sampled "
                       "on every CPU at a fixed rate, from runqlen.")
                .add({}, h);
        });
    return run_summary_tool<runqlen_bpf>(
        spec, [&](runqlen_bpf& skel, const AttachPlan&, Output& out) {
            Printer printer(options, settings, out);
            printer.header();
            return [printer = std::move(printer), deltas = IntervalSamples(),
                    cpus = skel.maps.cpus]() mutable {
                printer.print(deltas.interval(samples_of(read_map<__u32, runqlen_value>(cpus))));
            };
        });
}

} // namespace corescope::tools
