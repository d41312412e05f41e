// cpufreq: the frequency CPUs run at, sampled by process: the frequency
// each CPU-clock sample's CPU ran at (kept from the power:cpu_frequency
// tracepoint), summed into histograms system-wide and, with -P, per process.
#include "decoder.h"
#include "filters.h"
#include "histogram_printer.h"
#include "map_reader.h"
#include "run.h"
#include "text_file.h"

#include <linux/types.h>
#include "cpufreq.skel.h"
#include "cpufreq/cpufreq.h"

#include <algorithm>
#include <cstdlib>
#include <linux/perf_event.h>
#include <map>
#include <unistd.h>

namespace corescope::tools {

namespace {

// The classic tool's bucket: 200 MHz.
constexpr uint64_t step_mhz = 200;
// Steps up to 102.2 GHz; anything above (no CPU, but a decoder's input can
// say so) counts in the last.
constexpr size_t max_slots = 512;

struct Settings {
    bool per_process = false; // -P
    uint64_t frequency = 99;  // -f: samples a second on each CPU
};

using Entry = MapEntry<cpufreq_key, cpufreq_value>;

// Where the CPUs' cpufreq directories are: sysfs, or for tests a copy of
// its layout (CORESCOPE_CPUFREQ_DIR/cpuN/cpufreq/scaling_cur_freq).
std::string cpu_dir() {
    const char* dir = std::getenv("CORESCOPE_CPUFREQ_DIR");
    return dir && *dir ? dir : "/sys/devices/system/cpu";
}

// Why this machine has no CPU frequencies to sample, in one line, or empty:
// the first online CPU's cpufreq directory, which a cpufreq driver makes.
std::string frequency_driver_missing() {
    std::vector<int> cpus = online_cpus();
    std::string dir =
        cpu_dir() + "/cpu" + std::to_string(cpus.empty() ? 0 : cpus.front()) + "/cpufreq";
    if (access(dir.c_str(), F_OK) == 0) return {};
    return "no CPU frequency driver here: " + dir +
           " does not exist (no cpufreq driver: a virtual machine, or its driver not loaded)";
}

// One interval's histograms: system-wide, then with -P one per process, the
// busiest first.
class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : options_(options), settings_(settings),
          histograms_(options, out, {json_field("scope"), json_field("pid"), json_field("comm")},
                      "MHz") {}

    void print(const std::vector<Entry>& entries) {
        struct Process {
            std::string comm;
            std::vector<uint64_t> slots;
            uint64_t total = 0;
        };
        std::vector<uint64_t> system;
        std::map<uint32_t, Process> processes;
        auto add = [](std::vector<uint64_t>& slots, uint32_t mhz, uint64_t samples) {
            size_t slot = std::min<size_t>(mhz / step_mhz, max_slots - 1);
            if (slots.size() <= slot) slots.resize(slot + 1);
            slots[slot] += samples;
        };
        for (const Entry& e : entries) {
            std::string_view comm = fixed_string(e.value.comm);
            if (settings_.per_process && !comm_matches(comm, options_.name)) continue;
            add(system, e.key.mhz, e.value.samples);
            if (!settings_.per_process) continue;
            Process& p = processes[e.key.pid];
            if (p.comm.empty()) p.comm = comm;
            add(p.slots, e.key.mhz, e.value.samples);
            p.total += e.value.samples;
        }
        std::vector<std::pair<uint32_t, const Process*>> ranked;
        for (const auto& [pid, p] : processes)
            ranked.emplace_back(pid, &p);
        std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
            return a.second->total > b.second->total;
        });

        histograms_.begin_interval();
        histograms_.print(
            Histogram::linear_steps(system, step_mhz),
            [](Record& r) { r.text("system").absent().absent(); },
            [] { return std::string("system-wide"); });
        for (const auto& ranked_process : ranked) {
            uint32_t pid = ranked_process.first;
            const Process* p = ranked_process.second;
            histograms_.print(
                Histogram::linear_steps(p->slots, step_mhz),
                [&](Record& r) { r.text("process").number(pid).text(p->comm); },
                [&] {
                    return "process " + std::to_string(pid) + " (" + text_escaped(p->comm) + ")";
                });
        }
    }

  private:
    const CommonOptions& options_;
    const Settings& settings_;
    HistogramPrinter histograms_;
};

std::vector<AttachStep> attach_steps(const Settings& settings) {
    std::string missing = frequency_driver_missing();
    if (!missing.empty()) throw RuntimeError(missing);
    AttachPoint sampler{"on_sample", AttachKind::perf_event, "cpu-clock"};
    sampler.perf_event.type = PERF_TYPE_SOFTWARE;
    sampler.perf_event.config = PERF_COUNT_SW_CPU_CLOCK;
    sampler.perf_event.frequency = settings.frequency;
    return {tracepoint_tiers("CPU frequency changes", {{"frequency", "power:cpu_frequency"}}),
            {"CPU samples", {{{sampler}}}}};
}

// Each CPU's frequency now, from its scaling_cur_freq (kHz), into the BPF
// side's table; a CPU without one stays at 0 (unknown) until it changes.
void fill_initial_frequencies(cpufreq_bpf& skel) {
    int cpus = std::min(possible_cpus(), CPUFREQ_MAX_CPUS);
    for (int cpu = 0; cpu < cpus; cpu++) {
        auto text =
            read_text_file(cpu_dir() + "/cpu" + std::to_string(cpu) + "/cpufreq/scaling_cur_freq");
        if (!text) continue;
        char* end = nullptr;
        unsigned long khz = std::strtoul(text->c_str(), &end, 10);
        if (end != text->c_str()) skel.bss->freq_mhz[cpu] = static_cast<__u32>(khz / 1000);
    }
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the counts map's
// entries (key, then value) of one interval; variant bit 0: -P.
void decode_cpufreq(const CommonOptions& options, uint32_t variant, Output& out,
                    std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_process = (variant & 1) != 0;
    Printer(options, settings, out).print(recorded_entries<cpufreq_key, cpufreq_value>(events));
}

int cpufreq(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("cpufreq",
                    "Sample the frequency of the CPUs processes run on, as histograms "
                    "system-wide and per process.",
                    {Flag::pid, Flag::uid, Flag::cgroup, Flag::name, Flag::time, Flag::duration,
                     Flag::interval});
    cli.add_switch('P', "pids", "one histogram per process too", &settings.per_process);
    cli.add_number('f', "frequency", "HZ", "samples a second on each CPU (default 99)",
                   &settings.frequency, 1, 10000);
    cli.set_examples("  cpufreq                   sample at 99 Hz, print at Ctrl-C\n"
                     "  cpufreq -P -d 5           five seconds, per process too\n"
                     "  cpufreq -f 199 1 10       ten 1-second histograms, 199 samples a second\n"
                     "  cpufreq -p 185 -o json    process 185, as JSON Lines\n");
    cli.needs("-n", "-P", "the names are those of the processes' histograms");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_summary_tool<cpufreq_bpf>(
        {.name = "cpufreq",
         .options = options,
         .attach_steps = [&] { return attach_steps(settings); },
         .configure = [&](cpufreq_bpf& skel,
                          const AttachPlan&) { skel.rodata->per_process = settings.per_process; },
         .fill_maps = fill_initial_frequencies,
         .announcement = interval_announcement(options, "Sampling CPU frequencies")},
        [&](cpufreq_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, settings, out), counts = skel.maps.counts,
                    &skel]() mutable {
                printer.print(take_map<cpufreq_key, cpufreq_value>(counts, CPUFREQ_MAX_KEYS));
                if (skel.bss->samples_dropped)
                    warn("%llu samples not counted (table of %d rows full)",
                         static_cast<unsigned long long>(skel.bss->samples_dropped),
                         CPUFREQ_MAX_KEYS);
            };
        });
}

} // namespace corescope::tools
