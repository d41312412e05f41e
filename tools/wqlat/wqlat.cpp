// wqlat: workqueue latency (from a work item's queueing to the start of its
// execution) as log2 histograms, in all or per workqueue; or with -E the
// execution time of each work function.
#include "decoder.h"
#include "export_collector.h"
#include "histogram_printer.h"
#include "map_reader.h"
#include "run.h"
#include "symbolizer.h"

#include "wqlat.skel.h"
#include "wqlat/wqlat.h"
#include <linux/types.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

namespace corescope::tools {

namespace {

struct Settings {
    bool per_workqueue = false; // -W
    std::string only_workqueue; // -w
    bool execution = false;     // -E: execution time per work function
    bool nanoseconds = false;   // -N

    bool named() const { return per_workqueue || !only_workqueue.empty(); }
};

std::string unit_of(const CommonOptions& options, const Settings& settings) {
    if (settings.nanoseconds) return "nsecs";
    return options.milliseconds ? "msecs" : "usecs";
}

std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
}

using Entry = MapEntry<wqlat_key, wqlat_hist>;

// A work function's symbol (its address where unknown, or without symbols).
std::string work_function_name(Symbolizer* symbols, uint64_t address) {
    if (symbols) {
        Symbol s = symbols->kernel(address);
        if (s.known()) return symbol_label(s);
    }
    return hex(address);
}

class Printer {
  public:
    // symbols: names work functions on the running system; decoders print
    // their addresses.
    Printer(const CommonOptions& options, const Settings& settings, Output& out,
            std::shared_ptr<Symbolizer> symbols)
        : settings_(settings), symbols_(std::move(symbols)),
          histograms_(options, out, label_fields(settings), unit_of(options, settings)) {}

    // One interval's histograms, as read from the map. Entries with the
    // same label add up: without -W every key is the empty name.
    void print(const std::vector<Entry>& entries) {
        histograms_.begin_interval();
        std::map<std::string, std::vector<uint64_t>> by_label;
        for (const Entry& e : entries) {
            auto& slots = by_label[settings_.execution ? function_name(e.key.function)
                                                       : std::string(fixed_string(e.key.name))];
            slots.resize(WQLAT_SLOTS);
            for (size_t i = 0; i < WQLAT_SLOTS; i++)
                slots[i] += e.value.slots[i];
        }
        // In one histogram, an idle interval says so too.
        if (by_label.empty() && !settings_.execution && !settings_.per_workqueue)
            by_label[settings_.only_workqueue] = std::vector<uint64_t>(WQLAT_SLOTS);
        for (const auto& entry : by_label) {
            // Not a structured binding: clang before 16 cannot capture one.
            const std::string& label = entry.first;
            histograms_.print(
                Histogram::log2(entry.second), [&](Record& r) { r.text(label); },
                [&] {
                    if (settings_.execution) return "function = " + text_escaped(label);
                    if (settings_.named()) return "workqueue = " + text_escaped(label);
                    return std::string();
                });
        }
    }

  private:
    static std::vector<Field> label_fields(const Settings& settings) {
        if (settings.execution) return {json_field("function")};
        return {shown_if(settings.named(), json_field("workqueue"))};
    }

    std::string function_name(uint64_t address) const {
        return work_function_name(symbols_.get(), address);
    }

    const Settings& settings_;
    std::shared_ptr<Symbolizer> symbols_;
    HistogramPrinter histograms_;
};

std::vector<AttachStep> attach_steps(const Settings& settings) {
    if (settings.execution)
        return {
            tracepoint_tiers("work execution", {{"exec_start", "workqueue:workqueue_execute_start"},
                                                {"exec_end", "workqueue:workqueue_execute_end"}})};
    return {tracepoint_tiers("work queueing and start",
                             {{"queue", "workqueue:workqueue_queue_work"},
                              {"start", "workqueue:workqueue_execute_start"}})};
}

} // namespace

// One interval's map entries (key, then histogram) through the printer, for
// tests/golden and tests/fuzz (common/decoder.h); variant bit 0: -W, bit 1: -E.
void decode_wqlat(const CommonOptions& options, uint32_t variant, Output& out,
                  std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_workqueue = (variant & 1) != 0;
    settings.execution = (variant & 2) != 0;
    Printer(options, settings, out, nullptr).print(recorded_entries<wqlat_key, wqlat_hist>(events));
}

int wqlat(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli(
        "wqlat", "Summarize workqueue latency (queued to started) as histograms.",
        {Flag::time, Flag::duration, Flag::milliseconds, Flag::interval, Flag::prometheus});
    cli.add_switch('W', "workqueues", "one histogram per workqueue", &settings.per_workqueue);
    cli.add_option(
        'w', "workqueue", "NAME", "only this workqueue (its exact name)", [&](std::string_view v) {
            if (v.empty() || v.size() >= WQLAT_NAME_LEN)
                throw UsageError("invalid workqueue name '" + std::string(v) + "': 1 to " +
                                 std::to_string(WQLAT_NAME_LEN - 1) + " characters");
            settings.only_workqueue = v;
        });
    cli.add_switch('E', "execution", "execution time per work function instead of latency",
                   &settings.execution);
    cli.add_switch('N', "nanoseconds", "histograms in nanoseconds", &settings.nanoseconds);
    cli.set_examples("  wqlat                     one histogram, printed at Ctrl-C\n"
                     "  wqlat 1 10                ten 1-second histograms\n"
                     "  wqlat -W 5                one histogram per workqueue every 5 s\n"
                     "  wqlat -w kblockd -mT 1    kblockd only, in ms, with times\n"
                     "  wqlat -E                  execution time per work function\n"
                     "  wqlat -W -o json 5        a JSON Lines record per workqueue every 5 s\n"
                     "  wqlat -o prometheus -d 60 a histogram per workqueue for Prometheus\n");
    cli.exclusive({"-N", "-m"}, "pick one unit");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (settings.execution && settings.named())
        throw UsageError("-E cannot be combined with -W or -w: execution is per work function");

    bool prometheus = options.format == OutputFormat::prometheus;
    if (prometheus && (settings.nanoseconds || options.milliseconds))
        throw UsageError("-o prometheus prints histograms in seconds: -N and -m do not apply");
    // One histogram per workqueue (or with -E per function), as labels.
    if (prometheus && !settings.execution) settings.per_workqueue = true;

    auto symbols = settings.execution ? std::make_shared<Symbolizer>() : nullptr;
    ToolSpec<wqlat_bpf> spec{
        .name = "wqlat",
        .options = options,
        .attach_steps = [&] { return attach_steps(settings); },
        .configure =
            [&](wqlat_bpf& skel, const AttachPlan&) {
                skel.rodata->per_workqueue = settings.per_workqueue;
                skel.rodata->filter_workqueue = !settings.only_workqueue.empty();
                std::memcpy(const_cast<char*>(skel.rodata->wanted_workqueue),
                            settings.only_workqueue.data(), settings.only_workqueue.size());
                skel.rodata->unit_ns = settings.nanoseconds   ? 1
                                       : options.milliseconds ? 1000000
                                                              : 1000;
                // The stamps of the mode not in use are never written.
                set_map_entries(settings.execution ? skel.maps.queued_work : skel.maps.running_work,
                                1);
                if (prometheus) configure_hist_sums(skel, WQLAT_MAX_KEYS);
            },
        .announcement = settings.execution ? "Tracing work execution... Hit Ctrl-C to end."
                                           : "Tracing workqueue latency... Hit Ctrl-C to end."};
    if (prometheus)
        return print_prometheus(spec, [&](wqlat_bpf& skel, Exposition& out) {
            MetricFamily& family =
                settings.execution
                    ? out.family("corescope_workqueue_execution_seconds", MetricType::histogram,
                                 "Execution time of work items by work function, from wqlat -E.",
                                 "seconds")
                    : out.family("corescope_workqueue_latency_seconds", MetricType::histogram,
                                 "Time work items waited from being queued to starting, by "
                                 "workqueue, from wqlat.",
                                 "seconds");
            for (const Entry& e :
                 read_map<wqlat_key, wqlat_hist>(skel.maps.hists, WQLAT_MAX_KEYS)) {
                double sum = static_cast<double>(hist_sum(skel.maps.hist_sums, e.key)) / 1e9;
                Labels labels =
                    settings.execution
                        ? Labels{{"function", work_function_name(symbols.get(), e.key.function)}}
                        : Labels{{"workqueue", std::string(fixed_string(e.key.name))}};
                // Keys with the same label (two addresses of one symbol) add up.
                family.add(labels, log2_histogram(slots_of(e.value.slots), export_us, sum));
            }
        });
    return run_summary_tool<wqlat_bpf>(spec, [&](wqlat_bpf& skel, const AttachPlan&, Output& out) {
        return [printer = Printer(options, settings, out, symbols),
                hists = skel.maps.hists]() mutable {
            printer.print(take_map<wqlat_key, wqlat_hist>(hists, WQLAT_MAX_KEYS));
        };
    });
}

} // namespace corescope::tools
