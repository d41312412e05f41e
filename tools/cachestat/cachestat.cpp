// cachestat: page cache hits, misses and dirtied pages per interval, with
// the buffers and cached sizes from /proc/meminfo.
#include "decoder.h"
#include "export_collector.h"
#include "page_cache.h"
#include "run.h"
#include "text_file.h"

#include "cachestat.skel.h"

#include <memory>
#include <vector>

namespace corescope::tools {

namespace {

// Buffers and Cached from /proc/meminfo, in MiB.
std::pair<uint64_t, uint64_t> buffers_and_cached_mb() {
    std::map<std::string, uint64_t> kb = read_name_values("/proc/meminfo");
    return {kb["Buffers"] / 1024, kb["Cached"] / 1024};
}

// One line per interval: what the counters added since the last one.
class Printer {
  public:
    // by_functions: counted on the classic functions rather than on
    // tracepoints; live: Buffers and Cached read from /proc/meminfo
    // (decoders show 0).
    Printer(const CommonOptions& options, Output& out, PageCacheCounters start, bool by_functions,
            bool live)
        : records_(options, out, layout()), before_(start), by_functions_(by_functions),
          live_(live) {
        records_.header();
    }

    void print(const PageCacheCounters& now) {
        PageCacheActivity i = page_cache_activity(now, before_, by_functions_);
        before_ = now;
        double ratio = i.hit_ratio();
        auto [buffers_mb, cached_mb] =
            live_ ? buffers_and_cached_mb() : std::pair<uint64_t, uint64_t>{0, 0};
        records_.begin()
            .text(iso_time_now())
            .number(i.hits)
            .number(i.misses)
            .number(i.dirties)
            .real(ratio)
            .real(ratio * 100)
            .number(i.accesses)
            .number(buffers_mb)
            .number(cached_mb)
            .end();
    }

  private:
    static RecordLayout layout() {
        return {0,
                {json_field("time"), column("hits", "HITS", 8, Align::right),
                 column("misses", "MISSES", 8, Align::right),
                 column("dirties", "DIRTIES", 8, Align::right),
                 with_decimals(4, json_field("hit_ratio")),
                 with_suffix("%", with_decimals(2, text_column("HITRATIO", 8, Align::right))),
                 json_field("accesses"), column("buffers_mb", "BUFFERS_MB", 12, Align::right),
                 column("cached_mb", "CACHED_MB", 10, Align::right)}};
    }

    RecordWriter records_;
    PageCacheCounters before_;
    bool by_functions_;
    bool live_;
};

// -o prometheus: hits, misses and dirtied pages since the start, summed
// from each reading's activity as the text lines count it (each reading's
// figures are held at 0 or above, so a counter never goes back).
class Metrics {
  public:
    explicit Metrics(std::shared_ptr<const bool> by_functions)
        : by_functions_(std::move(by_functions)) {}

    void operator()(cachestat_bpf& skel, Exposition& out) {
        PageCacheCounters now = read_page_cache_counters(skel.maps.page_cache_totals);
        PageCacheActivity a = page_cache_activity(now, before_, *by_functions_);
        before_ = now;
        hits_ += a.hits;
        misses_ += a.misses;
        dirties_ += a.dirties;
        auto counter = [&](const char* name, const char* help, uint64_t value) {
            out.family(name, MetricType::counter, help).add({}, static_cast<double>(value));
        };
        counter("corescope_page_cache_hits",
                "Page cache lookups that found the page, from cachestat.", hits_);
        counter("corescope_page_cache_misses",
                "Page cache lookups that had to insert the page, from cachestat.", misses_);
        counter("corescope_page_cache_dirtied_pages", "Page cache pages dirtied, from cachestat.",
                dirties_);
    }

  private:
    std::shared_ptr<const bool> by_functions_;
    PageCacheCounters before_{};
    uint64_t hits_ = 0, misses_ = 0, dirties_ = 0;
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the counters at the
// end of each interval (key, then page_cache_counters summed over the CPUs),
// the first interval counted from zero; variant bit 0: counted on the
// classic functions (the fentry and kprobe ways).
void decode_cachestat(const CommonOptions& options, uint32_t variant, Output& out,
                      std::span<const RecordedEvent> events) {
    Printer printer(options, out, {}, (variant & 1) != 0, false);
    for (const auto& e : recorded_entries<uint32_t, PageCacheCounters>(events))
        printer.print(e.value);
}

int cachestat(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("cachestat",
                    "Count page cache hits, misses and dirtied pages every interval (default 1 s).",
                    {Flag::time, Flag::duration, Flag::interval, Flag::prometheus});
    cli.set_examples("  cachestat                 a line every second until Ctrl-C\n"
                     "  cachestat -T 5            every 5 seconds, with times\n"
                     "  cachestat 1 10            ten one-second lines\n"
                     "  cachestat -o json -d 60   one minute of JSON Lines\n"
                     "  cachestat -o prometheus -d 60   the counts as a Prometheus exposition\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    bool prometheus = options.format == OutputFormat::prometheus;
    // A Prometheus exposition once at the end unless an interval is given.
    if (!options.interval && !prometheus) options.interval = 1;

    auto by_functions = std::make_shared<bool>(false);
    ToolSpec<cachestat_bpf> spec{
        .name = "cachestat",
        .options = options,
        .attach_steps = [] { return std::vector<AttachStep>{page_cache_attach_step()}; },
        .configure =
            [&](cachestat_bpf& skel, const AttachPlan& plan) {
                skel.rodata->page_cache_page_shift = page_shift();
                *by_functions = page_cache_by_functions(plan);
            },
        .announcement = "Counting page cache activity... Hit Ctrl-C to end."};
    if (prometheus) return print_prometheus(spec, Metrics(by_functions));
    return run_summary_tool<cachestat_bpf>(spec, [&](cachestat_bpf& skel, const AttachPlan& plan,
                                                     Output& out) {
        const bpf_map* totals = skel.maps.page_cache_totals;
        // Counted from zero, not from a read here (common/run.h says why).
        return [printer =
                    Printer(options, out, PageCacheCounters{}, page_cache_by_functions(plan), true),
                totals]() mutable { printer.print(read_page_cache_counters(totals)); };
    });
}

} // namespace corescope::tools
