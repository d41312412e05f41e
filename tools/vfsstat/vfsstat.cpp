// vfsstat: file-system calls per second by family (reads, writes, fsyncs,
// opens, creates, unlinks, mkdirs, rmdirs, renames, stats), every interval.
#include "decoder.h"
#include "export_collector.h"
#include "file_calls.h"
#include "map_reader.h"
#include "run.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

#include "vfsstat.skel.h"
#include "vfsstat/vfsstat.h"

#include <unistd.h>

namespace corescope::tools {

namespace {

void add_counts(vfsstat_counts& sum, const vfsstat_counts& one) {
    for (int f = 0; f < FILE_CALL_FAMILIES; f++)
        sum.calls[f] += one.calls[f];
}

vfsstat_counts read_counts(const bpf_map* map) {
    auto entries = read_percpu_map<uint32_t, vfsstat_counts>(map, add_counts);
    if (entries.empty()) throw RuntimeError("cannot read the file call counters");
    return entries.front().value;
}

// One line per interval: the calls of each family since the last one, in
// text per second (as the classic vfsstat), in JSON as counts with the
// interval's length.
class Printer {
  public:
    Printer(const CommonOptions& options, Output& out, vfsstat_counts start)
        : records_(options, out, layout()), before_(start) {
        records_.header();
    }

    void print(const vfsstat_counts& now, double seconds) {
        Record r = records_.begin();
        r.text(iso_time_now())
            .real(seconds)
            .number(now.calls[FILE_CALL_NONE] - before_.calls[FILE_CALL_NONE]);
        for (int f = FILE_CALL_NONE + 1; f < FILE_CALL_FAMILIES; f++) {
            uint64_t n = now.calls[f] - before_.calls[f];
            r.number(n).real(seconds > 0 ? static_cast<double>(n) / seconds : 0);
        }
        r.end();
        before_ = now;
    }

  private:
    static RecordLayout layout() {
        std::vector<Field> fields = {json_field("time"), json_field("interval_s"),
                                     json_field("total")};
        for (auto [key, header] : headers)
            fields.insert(fields.end(), {json_field(key),
                                         with_decimals(0, text_column(header, 8, Align::right))});
        return {0, fields};
    }

    // In the order of enum file_call_family.
    static constexpr std::pair<std::string_view, std::string_view> headers[] = {
        {"read", "READ/s"},     {"write", "WRITE/s"},   {"fsync", "FSYNC/s"}, {"open", "OPEN/s"},
        {"create", "CREATE/s"}, {"unlink", "UNLINK/s"}, {"mkdir", "MKDIR/s"}, {"rmdir", "RMDIR/s"},
        {"rename", "RENAME/s"}, {"stat", "STAT/s"}};
    static_assert(std::size(headers) == FILE_CALL_FAMILIES - 1);

    RecordWriter records_;
    vfsstat_counts before_;
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("system call entry", {{"enter", "raw_syscalls:sys_enter"}})};
}

// -o prometheus: the counters since the start, one series a kind.
void collect(vfsstat_bpf& skel, Exposition& out) {
    vfsstat_counts now = read_counts(skel.maps.counts);
    MetricFamily& calls =
        out.family("corescope_file_calls", MetricType::counter,
                   "File-system system calls by kind (an open with O_CREAT is also a create), "
                   "from vfsstat.");
    for (int f = FILE_CALL_NONE + 1; f < FILE_CALL_FAMILIES; f++)
        calls.add({{"kind", std::string(file_call_family_name(f))}},
                  static_cast<double>(now.calls[f]));
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the counters at the
// end of each one-second interval (key, then vfsstat_counts summed over the
// CPUs), the first interval counted from zero.
void decode_vfsstat(const CommonOptions& options, uint32_t, Output& out,
                    std::span<const RecordedEvent> events) {
    decode_intervals<vfsstat_counts>(Printer(options, out, {}), events);
}

int vfsstat(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("vfsstat",
                    "Count file-system calls per second by kind (read, write, fsync, open, "
                    "create, unlink, mkdir, rmdir, rename, stat), every interval (default 1 s).",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::interval, Flag::prometheus});
    cli.set_examples("  vfsstat                   a line every second until Ctrl-C\n"
                     "  vfsstat -T 5              every 5 seconds, with times\n"
                     "  vfsstat 1 10              ten one-second lines\n"
                     "  vfsstat -p 181            the calls of process 181 only\n"
                     "  vfsstat -o json -d 60     one minute of JSON Lines\n"
                     "  vfsstat -o prometheus -d 60   the counts as a Prometheus exposition\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    bool prometheus = options.format == OutputFormat::prometheus;
    // A Prometheus exposition once at the end unless an interval is given.
    if (!options.interval && !prometheus) options.interval = 1;

    ToolSpec<vfsstat_bpf> spec{.name = "vfsstat",
                               .options = options,
                               .attach_steps = attach_steps,
                               .configure =
                                   [](vfsstat_bpf& skel, const AttachPlan&) {
                                       fill_file_call_families(skel.rodata->file_call_family);
                                       skel.rodata->self_tgid = static_cast<uint32_t>(getpid());
                                   },
                               .announcement = "Counting file-system calls... Hit Ctrl-C to end."};
    if (prometheus) return print_prometheus(spec, collect);
    return run_summary_tool<vfsstat_bpf>(
        spec, [&](vfsstat_bpf& skel, const AttachPlan&, Output& out) {
            // Counted from zero, not from a read here (common/run.h says why).
            return print_rates(Printer(options, out, vfsstat_counts{}),
                               [counts = skel.maps.counts] { return read_counts(counts); });
        });
}

} // namespace corescope::tools
