// funclatency: a log2 histogram of a function's latency, from its entry to
// its return: user functions through uprobes, kernel functions through
// fentry/fexit or kprobes (common/probe_spec.h: the probe syntax).
#include "decoder.h"
#include "export_collector.h"
#include "histogram_printer.h"
#include "map_reader.h"
#include "probe_spec.h"
#include "run.h"
#include "text_file.h"

#include "funclatency.skel.h"
#include "funclatency/funclatency.h"

#include <algorithm>

namespace corescope::tools {

namespace {

// Without a function: the C library's getaddrinfo (host name lookups), rare
// enough to cost nothing on any host.
constexpr const char* default_function = "c:getaddrinfo";

enum class Unit { ns, us, ms };

struct Settings {
    Unit unit = Unit::ns;
    bool per_process = false; // -P
};

uint64_t unit_ns(Unit unit) {
    return unit == Unit::ms ? 1000000 : unit == Unit::us ? 1000 : 1;
}

const char* unit_name(Unit unit) {
    return unit == Unit::ms ? "msecs" : unit == Unit::us ? "usecs" : "nsecs";
}

using HistEntry = MapEntry<uint32_t, funclatency_hist>;

// One histogram per interval (per process with -P, lowest PID first); in
// JSON one record each, labelled with the probe (and the process).
class FuncLatencyPrinter {
  public:
    FuncLatencyPrinter(const CommonOptions& options, const Settings& settings, Output& out,
                       std::string probe, bool live)
        : settings_(settings), probe_(std::move(probe)), live_(live),
          histograms_(options, out,
                      {json_field("probe"), shown_if(settings.per_process, json_field("pid")),
                       shown_if(settings.per_process, json_field("comm"))},
                      unit_name(settings.unit)) {}

    void print(std::vector<HistEntry> entries) {
        histograms_.begin_interval();
        std::sort(entries.begin(), entries.end(),
                  [](const HistEntry& a, const HistEntry& b) { return a.key < b.key; });
        if (entries.empty() && !settings_.per_process) entries.push_back({0, {}});
        for (const HistEntry& e : entries) {
            std::string comm(fixed_string(e.value.comm));
            if (live_ && settings_.per_process) {
                std::string now = process_comm(e.key);
                if (!now.empty()) comm = now;
            }
            histograms_.print(
                Histogram::log2_slots(e.value.slots),
                [&](Record& r) { r.text(probe_).number(e.key).text(comm); },
                [&] {
                    return settings_.per_process
                               ? "pid = " + std::to_string(e.key) + " " + text_escaped(comm)
                               : std::string();
                });
        }
    }

  private:
    Settings settings_;
    std::string probe_;
    bool live_;
    HistogramPrinter histograms_;
};

} // namespace

// One interval's map entries (key, then struct funclatency_hist), for
// tests/golden and tests/fuzz (common/decoder.h); the probe is labelled
// "fc_slow". variant bit 0: -P; bits 1-2: the unit (0 ns, 1 us, 2 ms).
void decode_funclatency(const CommonOptions& options, uint32_t variant, Output& out,
                        std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_process = (variant & 1) != 0;
    uint32_t unit = (variant >> 1) & 3;
    settings.unit = unit == 2 ? Unit::ms : unit == 1 ? Unit::us : Unit::ns;
    FuncLatencyPrinter(options, settings, out, "fc_slow", false)
        .print(recorded_entries<uint32_t, funclatency_hist>(events));
}

int funclatency(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    std::string function = default_function;
    bool regex = false;
    bool microseconds = false;
    CommandLine cli("funclatency",
                    "Summarize a function's latency (entry to return) as a histogram.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::milliseconds, Flag::interval, Flag::interval_flag, Flag::prometheus});
    cli.add_switch(0, "microseconds", "histogram in microseconds (bcc's -u; default nanoseconds)",
                   &microseconds);
    cli.add_switch('P', "pids", "one histogram per process", &settings.per_process);
    cli.add_switch('r', "regexp", "FUNCTION is an extended regular expression, not a glob", &regex);
    cli.set_positional(
        "FUNCTION",
        std::string("the function: LIB:FUNC or PATH:FUNC (user), FUNC (kernel); a pattern "
                    "matching several adds them into one histogram (default: ") +
            default_function + ")",
        [&](std::string_view v) { function = std::string(v); });
    cli.set_examples("  funclatency c:getaddrinfo          host name lookups, in nanoseconds\n"
                     "  funclatency -m -p 181 c:fsync      process 181's fsync() in ms\n"
                     "  funclatency --microseconds -P /usr/bin/app:handle   per process, us\n"
                     "  funclatency -m vfs_fsync 5         a kernel function, every 5 s\n"
                     "  funclatency -o json -d 10 c:malloc  JSON after 10 seconds\n"
                     "  funclatency -o prometheus -d 60 vfs_fsync   a histogram for Prometheus\n");
    cli.exclusive({"-m", "--microseconds"}, "pick one unit");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    bool prometheus = options.format == OutputFormat::prometheus;
    if (prometheus && (settings.per_process || microseconds || options.milliseconds))
        throw UsageError("-o prometheus prints one histogram in seconds: -P, -m and "
                         "--microseconds do not apply");
    settings.unit = options.milliseconds ? Unit::ms : microseconds ? Unit::us : Unit::ns;
    // Microsecond slots, as corescope export's latency histograms have.
    if (prometheus) settings.unit = Unit::us;
    ProbeSpec spec = parse_probe_spec(function);
    if (spec.type == ProbeType::tracepoint || spec.type == ProbeType::usdt)
        throw UsageError("invalid function '" + spec.text +
                         "': tracepoints and USDT probes have no return to time");
    NameMatcher check(spec.pattern, regex); // a bad regex is a usage error, before BPF

    std::string kernel_function;
    ToolSpec<funclatency_bpf> tool{
        .name = "funclatency",
        .options = options,
        .attach_steps =
            [&] {
                KernelFeatures& features = KernelFeatures::instance();
                if (spec.type == ProbeType::kernel) {
                    AttachStep step{"kernel function '" + spec.pattern + "'", {}};
                    std::string target = spec.pattern;
                    bool any = features.supports(AttachKind::fentry, nullptr) ||
                               features.supports(AttachKind::kprobe, nullptr);
                    if (any) {
                        // One function: the pattern must name exactly one.
                        std::vector<ProbeTarget> found =
                            resolve_probe_spec(spec, regex, {}, features.tracefs_path());
                        if (found.size() > 1)
                            throw RuntimeError("'" + spec.pattern + "' matches " +
                                               std::to_string(found.size()) +
                                               " kernel functions (" + found[0].label + ", " +
                                               found[1].label + "...); name one");
                        target = found[0].target;
                    }
                    kernel_function = target;
                    step.ways.push_back({{{"fentry_entry", AttachKind::fentry, target},
                                          {"fexit_return", AttachKind::fexit, target}}});
                    step.ways.push_back({{{"kprobe_entry", AttachKind::kprobe, target},
                                          {"kprobe_return", AttachKind::kretprobe, target}}});
                    return std::vector<AttachStep>{step};
                }
                AttachWay way;
                for (const ProbeTarget& t :
                     resolve_probe_spec(spec, regex, options.pids, features.tracefs_path())) {
                    way.points.push_back({"uprobe_entry", AttachKind::uprobe, t.target});
                    way.points.push_back({"uprobe_return", AttachKind::uretprobe, t.target});
                }
                return std::vector<AttachStep>{
                    {"user function '" + spec.pattern + "'", {std::move(way)}}};
            },
        .configure =
            [&](funclatency_bpf& skel, const AttachPlan& plan) {
                skel.rodata->per_process = settings.per_process;
                skel.rodata->unit_ns = unit_ns(settings.unit);
                if (prometheus) configure_hist_sums(skel, 1);
                if (plan.uses("fentry_entry")) {
                    for (bpf_program* prog : {skel.progs.fentry_entry, skel.progs.fexit_return})
                        if (int err =
                                bpf_program__set_attach_target(prog, 0, kernel_function.c_str()))
                            throw RuntimeError(errno_message(
                                "cannot trace kernel function " + kernel_function, -err));
                }
            },
        .announcement = interval_announcement(options, "Tracing \"" + spec.text + "\"")};
    if (prometheus)
        return print_prometheus(tool, [&](funclatency_bpf& skel, Exposition& out) {
            funclatency_hist hist{};
            for (const HistEntry& e :
                 read_map<uint32_t, funclatency_hist>(skel.maps.hists, FUNCLATENCY_MAX_KEYS))
                hist = e.value; // one key, 0, without -P
            double sum = static_cast<double>(hist_sum(skel.maps.hist_sums, uint32_t{0})) / 1e9;
            out.family("corescope_function_latency_seconds", MetricType::histogram,
                       "Latency of the function given to funclatency, from entry to return.",
                       "seconds")
                .add({{"function", spec.text}},
                     log2_histogram(slots_of(hist.slots, 32), export_us, sum));
        });
    return run_summary_tool<funclatency_bpf>(
        tool, [&](funclatency_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = FuncLatencyPrinter(options, settings, out, spec.text, true),
                    hists = skel.maps.hists]() mutable {
                printer.print(take_map<uint32_t, funclatency_hist>(hists, FUNCLATENCY_MAX_KEYS));
            };
        });
}

} // namespace corescope::tools
