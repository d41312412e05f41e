// fsdist: the latency of reads, writes, opens and fsyncs on one kind of file
// system, as a log2 histogram per operation. Run as ext4dist, xfsdist,
// btrfsdist or nfsdist (symlinks), it takes the file-system type from its
// name.
#include "decoder.h"
#include "export_collector.h"
#include "fs_types.h"
#include "histogram_printer.h"
#include "map_reader.h"
#include "run.h"

#include <linux/types.h>
#include "fsdist.skel.h"
#include "fsdist/fsdist.h"

#include <unistd.h>

namespace corescope::tools {

namespace {

using Entry = MapEntry<uint32_t, fsdist_hist>;

class Printer {
  public:
    // types: the wanted file-system types (empty: any), for the JSON label.
    Printer(const CommonOptions& options, std::vector<std::string> types, Output& out)
        : types_(std::move(types)),
          histograms_(options, out, {json_field("operation"), json_field("fs_type")},
                      options.milliseconds ? "msecs" : "usecs") {}

    // One interval's histograms, as read from the map: every operation, in
    // the order read, write, open, fsync; in text an operation without calls
    // prints nothing, in JSON a record with total 0.
    void print(const std::vector<Entry>& entries) {
        histograms_.begin_interval();
        for (uint32_t op = 0; op < FS_CALL_OP_COUNT; op++) {
            fsdist_hist hist{};
            for (const Entry& e : entries)
                if (e.key == op) hist = e.value;
            histograms_.print(
                Histogram::log2_slots(hist.slots),
                [&](Record& r) {
                    r.text(fs_call_op_name(op));
                    if (types_.empty())
                        r.null();
                    else
                        r.text(types_[0]);
                },
                [&] { return std::string("operation = ") + fs_call_op_name(op); });
        }
    }

  private:
    std::vector<std::string> types_;
    HistogramPrinter histograms_;
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): map entries (the
// operation, then its histogram), as for ext4.
void decode_fsdist(const CommonOptions& options, uint32_t, Output& out,
                   std::span<const RecordedEvent> events) {
    Printer(options, {"ext4"}, out).print(recorded_entries<uint32_t, fsdist_hist>(events));
}

int fsdist(int argc, char** argv) {
    CommonOptions options;
    std::string argv0 = argc > 0 ? argv[0] : "fsdist";
    const std::string tool = argv0.substr(argv0.rfind('/') + 1);
    std::string default_type = fs_type_from_name(tool, "dist", "fsdist");
    std::vector<std::string> types;
    if (!default_type.empty()) types = parse_fs_types(default_type);
    bool typed = false; // --type given: an unknown name there is a usage error

    CommandLine cli(tool,
                    "Summarize the latency of reads, writes, opens and fsyncs as histograms" +
                        (default_type.empty() ? std::string(" (any file system).")
                                              : " on " + default_type + " file systems."),
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::milliseconds, Flag::interval, Flag::prometheus});
    cli.add_option(0, "type", "TYPE",
                   "file-system type(s), comma-separated: ext4, xfs, btrfs, nfs, ... (default: " +
                       (default_type.empty() ? std::string("any") : default_type) +
                       "); not -t, which is the thread ID here",
                   [&](std::string_view v) {
                       types = parse_fs_types(v);
                       typed = true;
                   });
    std::string examples;
    auto example = [&examples](const std::string& command, const char* what) {
        examples += "  " + command +
                    std::string(command.size() < 30 ? 30 - command.size() : 1, ' ') + what + "\n";
    };
    example(tool, "histograms printed at Ctrl-C");
    example(tool + " 1 10", "ten 1-second summaries");
    example(tool + " -mT 5", "every 5 seconds, in milliseconds, with times");
    example(tool + " -p 181", "PID 181 only");
    example("fsdist --type xfs", "xfs (as xfsdist)");
    example(tool + " -o json 5", "a JSON Lines record per operation every 5 seconds");
    example(tool + " -o prometheus -d 60", "histograms in seconds for Prometheus");
    cli.set_examples(examples);
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    // A type the user typed must exist; the one in the tool's name
    // (xfsdist where no xfs is mounted yet) only draws a warning.
    if (typed) {
        std::vector<std::string> unknown = unknown_fs_types(types);
        if (!unknown.empty())
            throw UsageError("unknown file-system type '" + unknown[0] +
                             "': not registered in /proc/filesystems and no module for it");
    }

    bool prometheus = options.format == OutputFormat::prometheus;
    if (prometheus && options.milliseconds)
        throw UsageError("-o prometheus prints histograms in seconds: -m does not apply");

    std::string what = types.empty() ? std::string("file system") : types[0];
    ToolSpec<fsdist_bpf> spec{
        .name = tool,
        .options = options,
        .attach_steps =
            [&] {
                if (!typed && !types.empty()) warn_unregistered_fs_types(tool, types);
                return std::vector<AttachStep>{fs_calls_step()};
            },
        .configure =
            [&](fsdist_bpf& skel, const AttachPlan&) {
                configure_fs_calls(skel.rodata, static_cast<uint32_t>(getpid()), types);
                skel.rodata->unit_ns = options.milliseconds ? 1000000 : 1000;
                if (prometheus) configure_hist_sums(skel, FS_CALL_OP_COUNT);
            },
        .announcement = "Tracing " + what + " operation latency... Hit Ctrl-C to end."};
    if (prometheus) {
        // Every operation, called or not, under the file-system types asked for.
        std::string fs_types;
        for (const std::string& t : types)
            fs_types += (fs_types.empty() ? "" : ",") + t;
        return print_prometheus(spec, [fs_types](fsdist_bpf& skel, Exposition& out) {
            MetricFamily& family = out.family(
                "corescope_fs_operation_latency_seconds", MetricType::histogram,
                "Latency of reads, writes, opens and fsyncs on files, timed at the system call, "
                "by operation, from fsdist.",
                "seconds");
            std::vector<Entry> entries =
                read_map<uint32_t, fsdist_hist>(skel.maps.hists, FS_CALL_OP_COUNT);
            for (uint32_t op = 0; op < FS_CALL_OP_COUNT; op++) {
                fsdist_hist hist{};
                for (const Entry& e : entries)
                    if (e.key == op) hist = e.value;
                Labels labels{{"operation", fs_call_op_name(op)}};
                if (!fs_types.empty()) labels.emplace_back("fs_type", fs_types);
                double sum = static_cast<double>(hist_sum(skel.maps.hist_sums, op)) / 1e9;
                family.add(labels, log2_histogram(slots_of(hist.slots), export_us, sum));
            }
        });
    }
    return run_summary_tool<fsdist_bpf>(
        spec, [&](fsdist_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, types, out), hists = skel.maps.hists]() mutable {
                printer.print(take_map<uint32_t, fsdist_hist>(hists, FS_CALL_OP_COUNT));
            };
        });
}

} // namespace corescope::tools
