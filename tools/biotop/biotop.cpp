// biotop: block I/O by process each interval: requests, KiB and average
// latency per submitting process, disk and direction, refreshed like top on
// a terminal, as lines in a pipe, one JSON record per interval with -o json.
#include "block_devices.h"
#include "decoder.h"
#include "filters.h"
#include "kernel_features.h"
#include "map_reader.h"
#include "run.h"
#include "text_file.h"
#include "top_table.h"

#include <linux/types.h>
#include "biotop.skel.h"
#include "biotop/biotop.h"

#include <memory>
#include <tuple>

namespace corescope::tools {

namespace {

enum class SortKey { all, io, bytes, time };

struct Settings {
    TopOptions top;
    SortKey sort = SortKey::all;
    uint32_t disk_dev = 0; // --disk, as its dev_t; 0 for all
};

using Entry = MapEntry<biotop_key, biotop_value>;

class Printer {
  public:
    // disks: names from /sys (decoders show MAJ:MIN instead).
    Printer(const CommonOptions& options, const Settings& settings, Output& out, bool clear,
            std::shared_ptr<DiskNames> disks, LoadAverage load)
        : sort_(settings.sort), name_(options.name), disks_(std::move(disks)),
          table_(options, out, settings.top, clear, row_layout(),
                 {json_field("io"), json_field("bytes"), json_field("rows")}, std::move(load)) {}

    void print(std::vector<Entry> entries) {
        // -n: the name is part of the key, so the filter drops whole rows.
        std::erase_if(entries, [&](const Entry& e) {
            return !comm_matches(fixed_string(e.key.comm), name_);
        });
        uint64_t io = 0, bytes = 0;
        for (const Entry& e : entries) {
            io += e.value.io;
            bytes += e.value.bytes;
        }
        size_t processes = table_.rank(entries, [&](const Entry& a, const Entry& b) {
            const biotop_value &x = a.value, &y = b.value;
            switch (sort_) {
            case SortKey::all:
                if (std::tuple(x.io, x.bytes, x.total_ns) != std::tuple(y.io, y.bytes, y.total_ns))
                    return std::tuple(x.io, x.bytes, x.total_ns) >
                           std::tuple(y.io, y.bytes, y.total_ns);
                break;
            case SortKey::io:
                if (x.io != y.io) return x.io > y.io;
                break;
            case SortKey::bytes:
                if (x.bytes != y.bytes) return x.bytes > y.bytes;
                break;
            case SortKey::time:
                if (x.total_ns != y.total_ns) return x.total_ns > y.total_ns;
                break;
            }
            return std::tuple(a.key.pid, fixed_string(a.key.comm), a.key.dev, a.key.write) <
                   std::tuple(b.key.pid, fixed_string(b.key.comm), b.key.dev, b.key.write);
        });
        table_.begin();
        for (const Entry& e : entries) {
            const biotop_value& v = e.value;
            double avg_ms = v.io ? static_cast<double>(v.total_ns) / 1e6 / v.io : 0.0;
            table_.row()
                .number(e.key.pid)
                .text(fixed_string(e.key.comm))
                .text(e.key.write ? "W" : "R")
                .number(kernel_dev_major(e.key.dev))
                .number(kernel_dev_minor(e.key.dev))
                .text(disk(e.key.dev))
                .number(v.io)
                .number(v.bytes / 1024)
                .real(avg_ms)
                .number(v.bytes)
                .number(v.total_ns / 1000)
                .end();
        }
        table_.end([&](Record& t) { t.number(io).number(bytes).number(processes); });
    }

  private:
    static RecordLayout row_layout() {
        return {0,
                {column("pid", "PID", 7), column("comm", "COMM", 16), column("direction", "D", 1),
                 column("major", "MAJ", 3, Align::right), column("minor", "MIN", 3, Align::right),
                 column("disk", "DISK", 8), column("io", "I/O", 5, Align::right),
                 column("kbytes", "Kbytes", 7, Align::right),
                 with_decimals(2, column("avg_ms", "AVGms", 7, Align::right)), json_field("bytes"),
                 json_field("total_us")}};
    }

    std::string disk(uint32_t dev) const {
        if (disks_) return disks_->name(dev);
        return std::to_string(kernel_dev_major(dev)) + ":" + std::to_string(kernel_dev_minor(dev));
    }

    SortKey sort_;
    std::string name_;
    std::shared_ptr<DiskNames> disks_;
    TopTable table_;
};

// One step, so that every block tracepoint comes from the same tier: the
// tracefs tier keys requests differently from the other two.
// block_io_start (6.5+, optional) is where a request meets its submitter
// for sure; before it, insert is where most do. block_rq_merge (optional)
// forgets a request merged away, which never completes.
std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("block I/O requests", {{"io_start", "block:block_io_start", true},
                                                    {"merge", "block:block_rq_merge", true},
                                                    {"insert", "block:block_rq_insert"},
                                                    {"issue", "block:block_rq_issue"},
                                                    {"complete", "block:block_rq_complete"}})};
}

// 2 arguments, (q, rq), before 5.11; (rq) since.
uint32_t request_arg_index(const std::string& tracepoint) {
    return KernelFeatures::instance().tracepoint_arg_count(tracepoint) == 2 ? 1 : 0;
}

SortKey parse_sort(std::string_view v) {
    if (v == "all") return SortKey::all;
    if (v == "io") return SortKey::io;
    if (v == "bytes" || v == "kbytes") return SortKey::bytes;
    if (v == "time" || v == "avg") return SortKey::time;
    throw UsageError("invalid sort key '" + std::string(v) + "' (all, io, bytes or time)");
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the entries of one
// interval's map. Variant bit 0: -r 2 -s bytes; bit 1: -s time; bit 2: the
// screen cleared as on a terminal. Disks as MAJ:MIN; the load average is a
// fixed string.
void decode_biotop(const CommonOptions& options, uint32_t variant, Output& out,
                   std::span<const RecordedEvent> events) {
    Settings settings;
    if (variant & 1) {
        settings.top.rows = 2;
        settings.sort = SortKey::bytes;
    }
    if (variant & 2) settings.sort = SortKey::time;
    Printer(options, settings, out, (variant & 4) != 0, nullptr, fixed_load_average)
        .print(recorded_entries<biotop_key, biotop_value>(events));
}

int biotop(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("biotop",
                    "Block device I/O by process: requests, KiB and average latency, every "
                    "interval (1 s unless given).",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::duration, Flag::interval});
    add_top_flags(cli, settings.top, "maxrows", "rows");
    cli.add_option('s', "sort", "KEY",
                   "sort by all (I/O, then bytes, then time: default), io, "
                   "bytes or time",
                   [&](std::string_view v) { settings.sort = parse_sort(v); });
    cli.add_option(0, "disk", "NAME", "only this disk (vda, sda, nvme0n1)",
                   [&](std::string_view v) { settings.disk_dev = find_disk(v); });
    cli.set_examples("  biotop                  refresh every second, like top\n"
                     "  biotop -C 5 3           three tables 5 s apart, screen not cleared\n"
                     "  biotop -s bytes -r 5    the five processes moving the most bytes\n"
                     "  biotop -p 181           I/O submitted by process 181\n"
                     "  biotop --disk sda       only sda\n"
                     "  biotop -o json 10       JSON Lines, a record every 10 seconds");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (!options.interval) options.interval = 1;
    bool clear = top_clears_screen(options, settings.top);

    return run_summary_tool<biotop_bpf>(
        {.name = "biotop",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](biotop_bpf& skel, const AttachPlan&) {
                 skel.rodata->insert_rq_arg = request_arg_index("block_rq_insert");
                 skel.rodata->issue_rq_arg = request_arg_index("block_rq_issue");
                 skel.rodata->merge_rq_arg = request_arg_index("block_rq_merge");
                 skel.rodata->only_dev = settings.disk_dev;
             },
         .announcement = interval_announcement(options, "Tracing block device I/O")},
        [&](biotop_bpf& skel, const AttachPlan&, Output& out) {
            return [&skel,
                    printer = Printer(options, settings, out, clear, std::make_shared<DiskNames>(),
                                      [] { return load_average(); })]() mutable {
                printer.print(
                    take_map<biotop_key, biotop_value>(skel.maps.totals, BIOTOP_MAX_KEYS));
                uint64_t dropped =
                    __atomic_exchange_n(&skel.bss->requests_dropped, 0, __ATOMIC_RELAXED);
                if (dropped)
                    warn("%llu requests not counted (table of %d rows full)",
                         static_cast<unsigned long long>(dropped), BIOTOP_MAX_KEYS);
            };
        });
}

} // namespace corescope::tools
