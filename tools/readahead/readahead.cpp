// readahead: how many pages readahead brought into the page cache, how many
// of them were used, how many were not, and a histogram of how old the used
// ones were at their first access; over the run, printed at the end (or
// every interval, the run so far).
#include "decoder.h"
#include "export_collector.h"
#include "histogram_printer.h"
#include "run.h"

#include <linux/types.h>
#include "readahead/readahead.h"
#include "readahead.skel.h"

#include <cstring>
#include <memory>

namespace corescope::tools {

namespace {

class Printer {
  public:
    Printer(const CommonOptions& options, Output& out)
        : counts_options_(std::make_unique<CommonOptions>(without_time(options))),
          counts_(*counts_options_, out, counts_layout()),
          histograms_(options, out, label_fields(), options.milliseconds ? "msecs" : "usecs") {}

    // The run's totals so far.
    void print(const readahead_totals& t) {
        uint64_t unused = t.pages > t.used ? t.pages - t.used : 0;
        histograms_.begin_interval();
        if (!counts_.json()) {
            counts_.header();
            counts_.begin()
                .number(t.pages)
                .number(t.used)
                .number(unused)
                .number(t.evicted_unused)
                .end();
        }
        histograms_.print(
            Histogram::log2_slots(t.age),
            [&](Record& r) {
                r.number(t.pages)
                    .number(t.used)
                    .number(unused)
                    .number(t.evicted_unused)
                    .number(t.untracked);
            },
            [] { return std::string("age of used readahead pages at first access:"); });
    }

  private:
    // -T's time is the histogram's line above the counts, not a column.
    static CommonOptions without_time(CommonOptions options) {
        options.time = false;
        return options;
    }
    static RecordLayout counts_layout() {
        return {0,
                {text_column("READAHEAD", 10, Align::right), text_column("USED", 10, Align::right),
                 text_column("UNUSED", 10, Align::right),
                 text_column("EVICTED_UNUSED", 14, Align::right)}};
    }
    static std::vector<Field> label_fields() {
        return {json_field("pages"), json_field("used"), json_field("unused"),
                json_field("evicted_unused"), json_field("untracked")};
    }

    std::unique_ptr<CommonOptions> counts_options_; // where a moved Printer's writer finds it
    RecordWriter counts_;
    HistogramPrinter histograms_;
};

std::vector<AttachStep> attach_steps() {
    auto calls = [](AttachKind entry, AttachKind exit, const char* in, const char* out) {
        std::string i(in), o(out);
        return AttachWay{{{i + "_ra_unbounded", entry, "page_cache_ra_unbounded"},
                          {o + "_ra_unbounded", exit, "page_cache_ra_unbounded"},
                          {i + "_ra_order", entry, "page_cache_ra_order", true},
                          {o + "_ra_order", exit, "page_cache_ra_order", true}}};
    };
    auto windows = [](AttachKind kind, const char* prefix) {
        auto target = [kind](const char* event) {
            return kind == AttachKind::tracepoint ? std::string("readahead:") + event
                                                  : std::string(event);
        };
        std::string p(prefix);
        return AttachWay{{{p + "_ra_unbounded", kind, target("page_cache_ra_unbounded")},
                          {p + "_ra_order", kind, target("page_cache_ra_order"), true}}};
    };
    auto accesses = [](AttachKind kind, const char* prefix) {
        std::string p(prefix);
        return AttachWay{{{p + "_get_pages", kind, "mm_filemap_get_pages"},
                          {p + "_fault", kind, "mm_filemap_fault"},
                          {p + "_map_pages", kind, "mm_filemap_map_pages", true}}};
    };
    return {
        {"readahead calls",
         {calls(AttachKind::fentry, AttachKind::fexit, "fentry", "fexit"),
          calls(AttachKind::kprobe, AttachKind::kretprobe, "kprobe", "kretprobe"),
          windows(AttachKind::tp_btf, "btf"), windows(AttachKind::raw_tp, "raw")}},
        tracepoint_tiers("page cache insertions and evictions",
                         {{"insert", "filemap:mm_filemap_add_to_page_cache"},
                          {"evict", "filemap:mm_filemap_delete_from_page_cache"}},
                         {AttachKind::tp_btf, AttachKind::raw_tp}),
        {"page accesses",
         {AttachWay{{{"fentry_accessed", AttachKind::fentry, "folio_mark_accessed"}}},
          AttachWay{{{"kprobe_accessed", AttachKind::kprobe, "folio_mark_accessed"}}},
          accesses(AttachKind::tp_btf, "btf"), accesses(AttachKind::raw_tp, "raw")}},
    };
}

readahead_totals read_totals(const readahead_totals& live) {
    readahead_totals t;
    // Each field is updated atomically by the programs; a reading while they
    // run may be between two of them (used counted, pages not yet): held
    // consistent below.
    t.pages = __atomic_load_n(&live.pages, __ATOMIC_RELAXED);
    t.used = __atomic_load_n(&live.used, __ATOMIC_RELAXED);
    t.evicted_unused = __atomic_load_n(&live.evicted_unused, __ATOMIC_RELAXED);
    t.untracked = __atomic_load_n(&live.untracked, __ATOMIC_RELAXED);
    for (int i = 0; i < READAHEAD_SLOTS; i++)
        t.age[i] = __atomic_load_n(&live.age[i], __ATOMIC_RELAXED);
    if (t.pages < t.used + t.evicted_unused) t.pages = t.used + t.evicted_unused;
    return t;
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): struct
// readahead_totals as read at the end of each interval (one recorded entry
// each: a u32 key 0, then the totals).
void decode_readahead(const CommonOptions& options, uint32_t, Output& out,
                      std::span<const RecordedEvent> events) {
    Printer printer(options, out);
    for (const auto& e : recorded_entries<uint32_t, readahead_totals>(events))
        printer.print(e.value);
}

int readahead(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("readahead",
                    "Pages readahead brought into the page cache, how many were used and how "
                    "soon (printed at the end, or every interval: the run so far).",
                    {Flag::pid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::milliseconds, Flag::interval, Flag::prometheus});
    cli.set_examples("  readahead                 until Ctrl-C, then the counts and histogram\n"
                     "  readahead -d 10 -m        ten seconds, ages in milliseconds\n"
                     "  readahead 5               the run so far, every 5 seconds\n"
                     "  readahead -p 181          only readahead process 181 caused\n"
                     "  readahead -o json -d 60   one JSON record after a minute\n"
                     "  readahead -o prometheus -d 60   the counts and ages for Prometheus\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    bool prometheus = options.format == OutputFormat::prometheus;
    if (prometheus && options.milliseconds)
        throw UsageError("-o prometheus prints ages in seconds: -m does not apply");

    ToolSpec<readahead_bpf> spec{.name = "readahead",
                                 .options = options,
                                 .attach_steps = attach_steps,
                                 .configure =
                                     [&](readahead_bpf& skel, const AttachPlan&) {
                                         skel.rodata->age_unit_ns =
                                             options.milliseconds ? 1000000 : 1000;
                                         skel.rodata->keep_sums = prometheus;
                                     },
                                 .announcement = "Tracing readahead... Hit Ctrl-C to end."};
    if (prometheus)
        return print_prometheus(spec, [](readahead_bpf& skel, Exposition& out) {
            readahead_totals t = read_totals(skel.bss->totals);
            auto pages = [&](const char* name, const char* help, uint64_t value) {
                out.family(name, MetricType::counter, help).add({}, static_cast<double>(value));
            };
            pages("corescope_readahead_pages",
                  "Pages readahead inserted into the page cache, "
                  "from readahead.",
                  t.pages);
            pages("corescope_readahead_used_pages",
                  "Pages readahead inserted that were accessed at least once, from readahead.",
                  t.used);
            pages("corescope_readahead_evicted_unused_pages",
                  "Pages readahead inserted that were evicted before any access, from readahead.",
                  t.evicted_unused);
            pages("corescope_readahead_untracked_pages",
                  "Pages readahead inserted that the folio table had no room to follow, from "
                  "readahead.",
                  t.untracked);
            double sum =
                static_cast<double>(__atomic_load_n(&skel.bss->age_sum_ns, __ATOMIC_RELAXED)) / 1e9;
            out.family("corescope_readahead_page_age_seconds", MetricType::histogram,
                       "Age of used readahead pages at their first access (one observation a "
                       "page), from readahead.",
                       "seconds")
                .add({}, log2_histogram(slots_of(t.age), export_us, sum));
        });
    return run_summary_tool<readahead_bpf>(
        spec, [&](readahead_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, out), &skel]() mutable {
                readahead_totals t = read_totals(skel.bss->totals);
                uint32_t key = 0;
                detail::record_entry(&key, sizeof key, &t, sizeof t);
                printer.print(t);
            };
        });
}

} // namespace corescope::tools
