// funccount: calls counted per function, tracepoint or USDT probe matching a
// pattern, per interval or at the end (common/probe_spec.h: the patterns).
#include "clock.h"
#include "decoder.h"
#include "export_collector.h"
#include "map_reader.h"
#include "probe_spec.h"
#include "run.h"
#include "table_printer.h"

// libbpf's usdt.bpf.h declares a kconfig value as C's _Bool, which the
// skeleton repeats; g++ takes it as an extension, clang++ does not.
#define _Bool bool
#include "funccount.skel.h"
#undef _Bool
#include "funccount/funccount.h"

#include <algorithm>
#include <cerrno>
#include <optional>

namespace corescope::tools {

namespace {

// Without a pattern: the process lifecycle tracepoints, cheap on any host.
constexpr const char* default_pattern = "t:sched:sched_process_*";

struct FuncCountRow {
    std::string label;
    uint64_t count;
};

// The classic two columns, FUNC and COUNT, fewest calls first (the busiest
// end up next to the prompt); in JSON one record per interval with the rows
// under entries.
class FuncCountPrinter {
  public:
    FuncCountPrinter(const CommonOptions& options, Output& out)
        : table_(options, out,
                 {0, {column("func", "FUNC", 36), column("count", "COUNT", 8, Align::right)}},
                 {0,
                  {json_field("time"), json_field("interval_s"), json_field("total"),
                   json_field("distinct")}}),
          last_(monotonic_seconds()) {}

    void print(std::vector<FuncCountRow> rows) {
        double now = monotonic_seconds();
        double interval = now - last_;
        last_ = now;
        std::sort(rows.begin(), rows.end(), [](const FuncCountRow& a, const FuncCountRow& b) {
            return a.count != b.count ? a.count < b.count : a.label < b.label;
        });
        uint64_t total = 0;
        table_.begin();
        for (const FuncCountRow& r : rows) {
            total += r.count;
            detail::record_entry(&r.count, sizeof r.count, r.label.data(), r.label.size());
            table_.row().text(r.label).number(r.count).end();
        }
        table_.end([&](Record& t) {
            t.text(iso_time_now()).real(interval).number(total).number(rows.size());
        });
    }

  private:
    TablePrinter table_;
    double last_;
};

// The counts since the last interval, read key by key from the per-CPU
// array (no more keys than probes).
class FuncCountReader {
  public:
    FuncCountReader(const bpf_map* map, std::vector<std::string> labels)
        : map_(map), labels_(std::move(labels)), last_(labels_.size()),
          values_(static_cast<size_t>(possible_cpus())) {}

    std::vector<FuncCountRow> interval_rows() {
        std::vector<FuncCountRow> rows;
        for (uint32_t key = 0; key < labels_.size(); key++) {
            std::optional<uint64_t> sum = total(key);
            if (!sum) continue;
            uint64_t delta = *sum - last_[key];
            last_[key] = *sum;
            if (delta) rows.push_back({labels_[key], delta});
        }
        return rows;
    }

    // Every probe's count since the start (-o prometheus), those never hit too.
    std::vector<FuncCountRow> total_rows() {
        std::vector<FuncCountRow> rows;
        for (uint32_t key = 0; key < labels_.size(); key++)
            if (std::optional<uint64_t> sum = total(key)) rows.push_back({labels_[key], *sum});
        return rows;
    }

  private:
    // Probe key's count summed over the CPUs.
    std::optional<uint64_t> total(uint32_t key) {
        if (bpf_map__lookup_elem(map_, &key, sizeof key, values_.data(),
                                 values_.size() * sizeof(uint64_t), 0) != 0)
            return std::nullopt;
        uint64_t sum = 0;
        for (uint64_t v : values_)
            sum += v;
        return sum;
    }

    const bpf_map* map_;
    std::vector<std::string> labels_;
    std::vector<uint64_t> last_;
    std::vector<uint64_t> values_;
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): one interval's rows,
// each recorded as its count (u64) then its label's bytes.
void decode_funccount(const CommonOptions& options, uint32_t, Output& out,
                      std::span<const RecordedEvent> events) {
    std::vector<FuncCountRow> rows;
    for (const RecordedEvent& e : events) {
        if (e.size < sizeof(uint64_t)) continue;
        uint64_t count;
        std::memcpy(&count, e.data, sizeof count);
        rows.push_back(
            {std::string(static_cast<const char*>(e.data) + sizeof count, e.size - sizeof count),
             count});
    }
    FuncCountPrinter(options, out).print(std::move(rows));
}

int funccount(int argc, char** argv) {
    CommonOptions options;
    std::string pattern = default_pattern;
    bool regex = false;
    CommandLine cli("funccount",
                    "Count calls of functions, tracepoints and USDT probes matching a pattern.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::interval, Flag::interval_flag, Flag::prometheus});
    cli.add_switch('r', "regexp", "PATTERN is an extended regular expression, not a glob", &regex);
    cli.set_positional("PATTERN",
                       std::string("what to count: FUNC (kernel), LIB:FUNC or PATH:FUNC (user), "
                                   "t:CATEGORY:EVENT, u:LIB:PROBE (USDT); * and ? match any text "
                                   "(default: ") +
                           default_pattern + ")",
                       [&](std::string_view v) { pattern = std::string(v); });
    cli.set_examples("  funccount 'c:malloc*'          calls of libc's malloc* functions\n"
                     "  funccount -p 181 'c:pthread_*' of process 181 (its own libc)\n"
                     "  funccount 't:syscalls:sys_enter_*' 1   system calls, every second\n"
                     "  funccount -r '^vfs_(read|write)$'      kernel functions (kprobes)\n"
                     "  funccount u:/usr/bin/python3:function__entry   USDT probes\n"
                     "  funccount -o json -d 10 'c:str*'        JSON after 10 seconds\n"
                     "  funccount -o prometheus -d 60 'vfs_*'   counts for Prometheus\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    ProbeSpec spec = parse_probe_spec(pattern);
    NameMatcher check(spec.pattern, regex); // a bad regex is a usage error, before BPF

    std::vector<std::string> labels;
    ToolSpec<funccount_bpf> tool{
        .name = "funccount",
        .options = options,
        .attach_steps =
            [&] {
                return std::vector<AttachStep>{probe_attach_step(
                    spec, {"uprobe_count", "tp_count", "usdt_count", "kprobe_count"}, regex,
                    options.pids, FUNCCOUNT_MAX_PROBES, labels)};
            },
        .configure =
            [&](funccount_bpf& skel, const AttachPlan&) {
                set_map_entries(skel.maps.counts,
                                static_cast<uint32_t>(std::max<size_t>(labels.size(), 1)));
            },
        .announcement = interval_announcement(options, "Tracing \"" + spec.text + "\"")};
    if (options.format == OutputFormat::prometheus)
        // The labels are known once the attach steps ran (in the load).
        return print_prometheus(tool, [&](funccount_bpf& skel, Exposition& out) {
            MetricFamily& calls =
                out.family("corescope_function_calls", MetricType::counter,
                           "Calls of each function, tracepoint or USDT probe matching the pattern "
                           "given to funccount.");
            for (const FuncCountRow& r : FuncCountReader(skel.maps.counts, labels).total_rows())
                calls.add({{"function", r.label}}, static_cast<double>(r.count));
        });
    return run_summary_tool<funccount_bpf>(
        tool, [&](funccount_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = FuncCountPrinter(options, out),
                    reader = FuncCountReader(skel.maps.counts, labels)]() mutable {
                printer.print(reader.interval_rows());
            };
        });
}

} // namespace corescope::tools
