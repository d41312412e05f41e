// bitesize: block I/O request sizes as log2 histograms in KiB, one per task
// name (and per process with -P), every interval or at the end.
#include "block_devices.h"
#include "decoder.h"
#include "export_collector.h"
#include "filters.h"
#include "histogram_printer.h"
#include "map_reader.h"
#include "run.h"

#include <linux/types.h>
#include "bitesize/bitesize.h"
#include "bitesize.skel.h"

#include <algorithm>
#include <cerrno>
#include <string>
#include <tuple>

namespace corescope::tools {

namespace {

struct Settings {
    bool per_process = false; // -P
    uint32_t disk_dev = 0;    // --disk, as its dev_t; 0 for all
};

using Entry = MapEntry<bitesize_key, bitesize_hist>;

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : settings_(settings), name_(options.name),
          histograms_(options, out,
                      {json_field("comm"), shown_if(settings.per_process, json_field("pid"))},
                      "Kbytes") {}

    // One interval's histograms, as read from the map: by name, then PID.
    void print(std::vector<Entry> entries) {
        histograms_.begin_interval();
        std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
            return std::tuple(fixed_string(a.key.comm), a.key.pid) <
                   std::tuple(fixed_string(b.key.comm), b.key.pid);
        });
        for (const Entry& e : entries) {
            std::string comm(fixed_string(e.key.comm));
            // -n: the name is the key, so the filter drops whole histograms.
            if (!name_.empty() && comm.find(name_) == std::string::npos) continue;
            histograms_.print(
                Histogram::log2_slots(e.value.slots),
                [&](Record& r) { r.text(comm).number(e.key.pid); },
                [&] {
                    std::string label = "Process Name = " + text_escaped(comm);
                    if (settings_.per_process) label += ", PID = " + std::to_string(e.key.pid);
                    return label;
                });
        }
    }

  private:
    const Settings& settings_;
    std::string name_;
    HistogramPrinter histograms_;
};

// 2 arguments, (q, rq), before 5.11; (rq) since.
uint32_t request_arg_index() {
    return KernelFeatures::instance().tracepoint_arg_count("block_rq_issue") == 2 ? 1 : 0;
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): map entries (key, then
// histogram); variant bit 0: -P.
void decode_bitesize(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_process = (variant & 1) != 0;
    Printer(options, settings, out).print(recorded_entries<bitesize_key, bitesize_hist>(events));
}

int bitesize(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("bitesize", "Summarize block device I/O sizes as histograms, per process.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::duration, Flag::interval, Flag::prometheus});
    cli.add_switch('P', "per-process", "one histogram per process (PID and name)",
                   &settings.per_process);
    cli.add_option(0, "disk", "NAME", "only this disk (vda, sda, nvme0n1)",
                   [&](std::string_view v) { settings.disk_dev = find_disk(v); });
    cli.set_examples("  bitesize                  histograms per task name, printed at Ctrl-C\n"
                     "  bitesize 1 10             ten 1-second summaries\n"
                     "  bitesize -T 1             per second, with times\n"
                     "  bitesize -n fio           only task names that contain fio\n"
                     "  bitesize -P               one histogram per process\n"
                     "  bitesize --disk sda       only sda\n"
                     "  bitesize -o json 5        a JSON Lines record per histogram every 5 s\n"
                     "  bitesize -o prometheus -d 60   histograms in bytes for Prometheus\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    bool prometheus = options.format == OutputFormat::prometheus;
    if (prometheus && settings.per_process)
        throw UsageError("-o prometheus prints a histogram per task name, not per process: -P "
                         "does not apply");

    ToolSpec<bitesize_bpf> spec{
        .name = "bitesize",
        .options = options,
        .attach_steps =
            [] {
                return std::vector<AttachStep>{
                    tracepoint_tiers("block I/O requests", {{"issue", "block:block_rq_issue"}})};
            },
        .configure =
            [&](bitesize_bpf& skel, const AttachPlan&) {
                skel.rodata->issue_rq_arg = request_arg_index();
                skel.rodata->per_process = settings.per_process;
                skel.rodata->only_dev = settings.disk_dev;
                if (prometheus) configure_hist_sums(skel, BITESIZE_MAX_KEYS);
            },
        .announcement = interval_announcement(options, "Tracing block device I/O")};
    if (prometheus)
        return print_prometheus(spec, [&](bitesize_bpf& skel, Exposition& out) {
            MetricFamily& family = out.family(
                "corescope_block_io_size_bytes", MetricType::histogram,
                "Sizes of block I/O requests with data at issue, by the issuing task's name, "
                "from bitesize.",
                "bytes");
            for (const Entry& e :
                 read_map<bitesize_key, bitesize_hist>(skel.maps.hists, BITESIZE_MAX_KEYS)) {
                std::string comm(fixed_string(e.key.comm));
                if (!options.name.empty() && comm.find(options.name) == std::string::npos) continue;
                // Slot i: bytes / 1024 in [2^i, 2^(i+1)).
                double sum = static_cast<double>(hist_sum(skel.maps.hist_sums, e.key));
                family.add({{"comm", comm}}, log2_histogram(slots_of(e.value.slots), 1024, sum));
            }
        });
    return run_summary_tool<bitesize_bpf>(
        spec, [&](bitesize_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, settings, out), hists = skel.maps.hists]() mutable {
                printer.print(take_map<bitesize_key, bitesize_hist>(hists, BITESIZE_MAX_KEYS));
            };
        });
}

} // namespace corescope::tools
