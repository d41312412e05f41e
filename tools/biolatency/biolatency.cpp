// biolatency: block device I/O latency as log2 histograms, in all or per
// disk or per operation.
#include "block_devices.h"
#include "decoder.h"
#include "export_collector.h"
#include "histogram_printer.h"
#include "map_reader.h"
#include "run.h"

#include <linux/types.h>
#include "biolatency/biolatency.h"
#include "biolatency.skel.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <time.h>
#include <tuple>
#include <unistd.h>

namespace corescope::tools {

namespace {

struct Settings {
    bool queued = false;   // -Q
    bool per_disk = false; // -D
    bool per_op = false;   // -F
    uint32_t disk_dev = 0; // --disk, as its dev_t; 0 for all
};

using Entry = MapEntry<biolatency_key, biolatency_hist>;

class Printer {
  public:
    // disks: names from /sys (decoders show MAJ:MIN instead).
    Printer(const CommonOptions& options, const Settings& settings, Output& out,
            std::shared_ptr<DiskNames> disks)
        : settings_(settings), disks_(std::move(disks)),
          histograms_(options, out, label_fields(settings),
                      options.milliseconds ? "msecs" : "usecs") {
        if (settings.per_op) ops_.emplace(BIOLATENCY_OP_UNKNOWN);
    }

    // One interval's histograms, as read from the map.
    void print(std::vector<Entry> entries) {
        histograms_.begin_interval();
        std::sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
            return sort_key(a.key) < sort_key(b.key);
        });
        // Unsplit, there is one histogram, so an idle interval says so too.
        if (entries.empty() && !settings_.per_disk && !settings_.per_op) entries.push_back({});
        for (const Entry& e : entries) {
            const biolatency_key& k = e.key;
            histograms_.print(
                Histogram::log2_slots(e.value.slots),
                [&](Record& r) {
                    r.boolean(settings_.queued)
                        .text(disk(k.dev))
                        .number(kernel_dev_major(k.dev))
                        .number(kernel_dev_minor(k.dev))
                        .lazy([&] { return settings_.per_op ? ops_->name(k.op) : std::string(); })
                        .boolean(k.sync);
                },
                [&] {
                    std::string label;
                    if (settings_.per_disk) label += "disk = " + text_escaped(disk(k.dev));
                    if (settings_.per_disk && settings_.per_op) label += '\t';
                    if (settings_.per_op)
                        label +=
                            "operation = " + std::string(k.sync ? "Sync-" : "") + ops_->name(k.op);
                    return label;
                });
        }
    }

  private:
    static std::vector<Field> label_fields(const Settings& settings) {
        return {json_field("queued"),
                shown_if(settings.per_disk, json_field("disk")),
                shown_if(settings.per_disk, json_field("major")),
                shown_if(settings.per_disk, json_field("minor")),
                shown_if(settings.per_op, json_field("operation")),
                shown_if(settings.per_op, json_field("sync"))};
    }

    std::string disk(uint32_t dev) const {
        if (disks_) return disks_->name(dev);
        return std::to_string(kernel_dev_major(dev)) + ":" + std::to_string(kernel_dev_minor(dev));
    }

    std::tuple<std::string, uint32_t, uint8_t> sort_key(const biolatency_key& k) const {
        return {settings_.per_disk ? disk(k.dev) : "", k.op, k.sync};
    }

    const Settings& settings_;
    std::shared_ptr<DiskNames> disks_;
    HistogramPrinter histograms_;
    std::optional<BlockOperationNames> ops_;
};

// One step, so that the start and the completion always come from the same
// tier: the tracefs tier keys requests differently from the other two.
std::vector<AttachStep> attach_steps(bool queued) {
    std::vector<TracepointProgram> programs;
    if (queued) programs.push_back({"insert", "block:block_rq_insert"});
    programs.push_back({"issue", "block:block_rq_issue"});
    programs.push_back({"complete", "block:block_rq_complete"});
    return {tracepoint_tiers("block I/O requests", programs)};
}

// 2 arguments, (q, rq), before 5.11; (rq) since.
uint32_t request_arg_index(const std::string& tracepoint) {
    return KernelFeatures::instance().tracepoint_arg_count(tracepoint) == 2 ? 1 : 0;
}

// Between open and load: the tool's switches and the request map's type.
void configure(biolatency_bpf& skel, const AttachPlan& plan, const Settings& settings,
               const CommonOptions& options) {
    skel.rodata->insert_rq_arg = request_arg_index("block_rq_insert");
    skel.rodata->issue_rq_arg = request_arg_index("block_rq_issue");
    skel.rodata->queued = settings.queued;
    skel.rodata->per_disk = settings.per_disk;
    skel.rodata->per_op = settings.per_op;
    skel.rodata->only_dev = settings.disk_dev;
    skel.rodata->unit_ns = options.milliseconds ? 1000000 : 1000;
    // Every issued request completes, so keyed by its address (tp_btf,
    // raw_tp) and started at issue, a start is never left behind: a plain
    // hash, cheaper per I/O than the LRU that -Q and sector keys need.
    if (!settings.queued && !plan.uses("tp_issue")) {
        int err = bpf_map__set_type(skel.maps.starts, BPF_MAP_TYPE_HASH);
        if (err) throw RuntimeError(errno_message("cannot set up the request map", err));
    }
}

} // namespace

// corescope export: one histogram per disk and operation (read, write,
// flush, ...; sync or not together), in seconds, with the kernel's sums.
std::unique_ptr<ExportCollector> export_biolatency(const CommonOptions& options) {
    Settings settings;
    settings.per_disk = true;
    settings.per_op = true;
    return export_collector<biolatency_bpf>(
        {.name = "biolatency",
         .options = options,
         .attach_steps = [] { return attach_steps(false); },
         .configure =
             [&](biolatency_bpf& skel, const AttachPlan& plan) {
                 configure(skel, plan, settings, options);
                 skel.rodata->keep_sums = true;
                 set_map_entries(skel.maps.sums, BIOLATENCY_MAX_KEYS);
             }},
        [disks = std::make_shared<DiskNames>(),
         ops = std::make_shared<BlockOperationNames>(BIOLATENCY_OP_UNKNOWN)](biolatency_bpf& skel,
                                                                             Exposition& out) {
            std::map<std::tuple<uint32_t, uint16_t, uint8_t>, uint64_t> sums;
            for (const auto& e :
                 read_map<biolatency_key, uint64_t>(skel.maps.sums, BIOLATENCY_MAX_KEYS))
                sums[{e.key.dev, e.key.op, e.key.sync}] = e.value;
            MetricFamily& family = out.family(
                "corescope_block_io_latency_seconds", MetricType::histogram,
                "Block I/O latency from issue to completion, by disk and operation, from "
                "biolatency.",
                "seconds");
            for (const Entry& e :
                 read_map<biolatency_key, biolatency_hist>(skel.maps.hists, BIOLATENCY_MAX_KEYS)) {
                const biolatency_key& k = e.key;
                double sum = static_cast<double>(sums[{k.dev, k.op, k.sync}]) / 1e9;
                std::vector<uint64_t> slots(std::begin(e.value.slots), std::end(e.value.slots));
                family.add(
                    {{"device", disks->name(k.dev)}, {"operation", snake_case(ops->name(k.op))}},
                    log2_histogram(slots, export_us, sum));
            }
        });
}

// For tests/golden and tests/fuzz (common/decoder.h): map entries (key, then
// histogram); variant bit 0: -D, bit 1: -Q. Not -F: that reads the
// kernel's BTF.
void decode_biolatency(const CommonOptions& options, uint32_t variant, Output& out,
                       std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_disk = (variant & 1) != 0;
    settings.queued = (variant & 2) != 0;
    Printer(options, settings, out, nullptr)
        .print(recorded_entries<biolatency_key, biolatency_hist>(events));
}

int biolatency(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("biolatency", "Summarize block device I/O latency as a histogram.",
                    {Flag::cgroup, Flag::time, Flag::duration, Flag::milliseconds, Flag::interval,
                     Flag::prometheus});
    cli.add_switch('Q', "queued", "include the time requests wait in the OS queue",
                   &settings.queued);
    cli.add_switch('D', "disks", "one histogram per disk", &settings.per_disk);
    cli.add_switch('F', "flags",
                   "one histogram per operation (Read, Write, Flush, ...), sync or not",
                   &settings.per_op);
    cli.add_option(0, "disk", "NAME", "only this disk (vda, sda, nvme0n1)",
                   [&](std::string_view v) { settings.disk_dev = find_disk(v); });
    cli.set_examples(
        "  biolatency                one histogram, printed at Ctrl-C\n"
        "  biolatency 1 10           ten 1-second histograms\n"
        "  biolatency -mT 1          per second, in milliseconds, with times\n"
        "  biolatency -Q             include the time queued in the OS\n"
        "  biolatency -D             one histogram per disk\n"
        "  biolatency -F             one histogram per operation\n"
        "  biolatency --disk sda     only sda\n"
        "  biolatency -c /sys/fs/cgroup/unified/db.slice  only I/O that cgroup submits\n"
        "  biolatency -o json 5      a JSON Lines record every 5 seconds\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (options.format == OutputFormat::prometheus) {
        if (settings.queued || settings.disk_dev || options.milliseconds)
            throw UsageError("-o prometheus prints one histogram per disk and operation in "
                             "seconds, from issue: -Q, --disk and -m do not apply");
        return print_expositions(export_biolatency(options), options);
    }

    return run_summary_tool<biolatency_bpf>(
        {.name = "biolatency",
         .options = options,
         .attach_steps = [&] { return attach_steps(settings.queued); },
         .configure = [&](biolatency_bpf& skel,
                          const AttachPlan& plan) { configure(skel, plan, settings, options); },
         .announcement = "Tracing block device I/O... Hit Ctrl-C to end."},
        [&](biolatency_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, settings, out, std::make_shared<DiskNames>()),
                    hists = skel.maps.hists]() mutable {
                printer.print(
                    take_map<biolatency_key, biolatency_hist>(hists, BIOLATENCY_MAX_KEYS));
            };
        });
}

} // namespace corescope::tools
