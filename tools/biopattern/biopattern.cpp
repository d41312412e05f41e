// biopattern: random versus sequential block I/O per disk, every interval or
// at the end: %RND, %SEQ, the count of requests and their KiB.
#include "block_devices.h"
#include "clock.h"
#include "decoder.h"
#include "export_collector.h"
#include "map_reader.h"
#include "run.h"
#include "table_printer.h"

#include <linux/types.h>
#include "biopattern/biopattern.h"
#include "biopattern.skel.h"

#include <algorithm>
#include <memory>
#include <string>

namespace corescope::tools {

namespace {

using Entry = MapEntry<uint32_t, biopattern_counts>;

// The share of part in whole, in whole percent (rounded down, as the classic
// tool prints it); 0 of nothing.
uint64_t percent(uint64_t part, uint64_t whole) {
    return whole ? part * 100 / whole : 0;
}

class Printer {
  public:
    // disks: names from /sys (decoders show MAJ:MIN instead).
    Printer(const CommonOptions& options, Output& out, std::shared_ptr<DiskNames> disks)
        : disks_(std::move(disks)), table_(options, out, row_layout(), table_layout()),
          last_(monotonic_seconds()) {}

    // One interval's counts, as read from the map; disks by name.
    void print(std::vector<Entry> entries) {
        double now = monotonic_seconds();
        double interval = now - last_;
        last_ = now;
        std::sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
            return std::pair(disk(a.key), a.key) < std::pair(disk(b.key), b.key);
        });
        uint64_t requests = 0, bytes = 0;
        table_.begin();
        for (const Entry& e : entries) {
            const biopattern_counts& c = e.value;
            uint64_t count = c.random + c.sequential;
            requests += count;
            bytes += c.bytes;
            table_.row()
                .text(disk(e.key))
                .number(kernel_dev_major(e.key))
                .number(kernel_dev_minor(e.key))
                .number(percent(c.random, count))
                .number(percent(c.sequential, count))
                .number(count)
                .number(c.bytes / 1024)
                .number(c.random)
                .number(c.sequential)
                .number(c.bytes)
                .end();
        }
        table_.end([&](Record& t) {
            t.text(iso_time_now()).real(interval).number(requests).number(bytes);
        });
    }

  private:
    static RecordLayout row_layout() {
        return {0,
                {column("disk", "DISK", 8), json_field("major"), json_field("minor"),
                 column("random_pct", "%RND", 5, Align::right),
                 column("sequential_pct", "%SEQ", 5, Align::right),
                 column("count", "COUNT", 8, Align::right),
                 column("kbytes", "KBYTES", 10, Align::right), json_field("random"),
                 json_field("sequential"), json_field("bytes")}};
    }
    static RecordLayout table_layout() {
        return {0,
                {json_field("time"), json_field("interval_s"), json_field("count"),
                 json_field("bytes")}};
    }

    std::string disk(uint32_t dev) const {
        if (disks_) return disks_->name(dev);
        return std::to_string(kernel_dev_major(dev)) + ":" + std::to_string(kernel_dev_minor(dev));
    }

    std::shared_ptr<DiskNames> disks_;
    TablePrinter table_;
    double last_;
};

// -o prometheus: each disk's requests by pattern and bytes since the start
// (the device label as corescope export's block I/O latency has it).
void collect(biopattern_bpf& skel, Exposition& out, DiskNames& disks) {
    MetricFamily& requests = out.family(
        "corescope_block_io_requests", MetricType::counter,
        "Completed block I/O requests with data by disk and pattern (sequential: starting where "
        "the disk's previous one ended; else random), from biopattern.");
    MetricFamily& bytes = out.family("corescope_block_io_bytes", MetricType::counter,
                                     "Bytes of completed block I/O requests by disk, from "
                                     "biopattern.",
                                     "bytes");
    for (const Entry& e :
         read_map<uint32_t, biopattern_counts>(skel.maps.counts, BIOPATTERN_MAX_DISKS)) {
        std::string device = disks.name(e.key);
        requests.add({{"device", device}, {"pattern", "random"}},
                     static_cast<double>(e.value.random));
        requests.add({{"device", device}, {"pattern", "sequential"}},
                     static_cast<double>(e.value.sequential));
        bytes.add({{"device", device}}, static_cast<double>(e.value.bytes));
    }
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): map entries (the
// disk's dev_t, then its counts); no variants.
void decode_biopattern(const CommonOptions& options, uint32_t, Output& out,
                       std::span<const RecordedEvent> events) {
    Printer(options, out, nullptr).print(recorded_entries<uint32_t, biopattern_counts>(events));
}

int biopattern(int argc, char** argv) {
    CommonOptions options;
    uint32_t disk_dev = 0;
    CommandLine cli("biopattern", "Show random versus sequential block I/O per disk.",
                    {Flag::time, Flag::duration, Flag::interval, Flag::prometheus});
    cli.add_option(0, "disk", "NAME", "only this disk (vda, sda, nvme0n1)",
                   [&](std::string_view v) { disk_dev = find_disk(v); });
    cli.set_examples("  biopattern                each disk's pattern, printed at Ctrl-C\n"
                     "  biopattern 1 10           ten 1-second summaries\n"
                     "  biopattern -T 1           per second, with times\n"
                     "  biopattern --disk sda 1   only sda, every second\n"
                     "  biopattern -o json 5      a JSON Lines record every 5 seconds\n"
                     "  biopattern -o prometheus -d 60   the counts as a Prometheus exposition\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    ToolSpec<biopattern_bpf> spec{
        .name = "biopattern",
        .options = options,
        .attach_steps =
            [] {
                return std::vector<AttachStep>{tracepoint_tiers(
                    "block I/O completions", {{"complete", "block:block_rq_complete"}})};
            },
        .configure = [&](biopattern_bpf& skel,
                         const AttachPlan&) { skel.rodata->only_dev = disk_dev; },
        .announcement = interval_announcement(options, "Tracing block device I/O patterns")};
    if (options.format == OutputFormat::prometheus)
        return print_prometheus(
            spec, [disks = std::make_shared<DiskNames>()](biopattern_bpf& skel, Exposition& out) {
                collect(skel, out, *disks);
            });
    return run_summary_tool<biopattern_bpf>(
        spec, [&](biopattern_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, out, std::make_shared<DiskNames>()),
                    counts = skel.maps.counts]() mutable {
                printer.print(take_map<uint32_t, biopattern_counts>(counts, BIOPATTERN_MAX_DISKS));
            };
        });
}

} // namespace corescope::tools
