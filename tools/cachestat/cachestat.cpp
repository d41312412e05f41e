// cachestat: page cache hits, misses and dirtied pages per interval, with
// the buffers and cached sizes from /proc/meminfo.
#include "decoder.h"
#include "map_reader.h"
#include "run.h"
#include "text_file.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

#include "cachestat.skel.h"
#include "cachestat/cachestat.h"

#include <unistd.h>
#include <vector>

namespace corescope::tools {

namespace {

using Totals = cachestat_counters;

void add_totals(Totals& sum, const Totals& one) {
    sum.read_pages += one.read_pages;
    sum.faults += one.faults;
    sum.added += one.added;
    sum.added_dirtied += one.added_dirtied;
    sum.dirtied += one.dirtied;
    sum.calls_accessed += one.calls_accessed;
    sum.calls_added += one.calls_added;
    sum.calls_buffer_dirty += one.calls_buffer_dirty;
    sum.dirtied_folios += one.dirtied_folios;
}

Totals read_totals(const bpf_map* map) {
    auto entries = read_percpu_map<uint32_t, Totals>(map, add_totals);
    if (entries.empty()) throw RuntimeError("cannot read the page cache counters");
    return entries.front().value;
}

// Buffers and Cached from /proc/meminfo, in MiB.
std::pair<uint64_t, uint64_t> buffers_and_cached_mb() {
    std::map<std::string, uint64_t> kb = read_name_values("/proc/meminfo");
    return {kb["Buffers"] / 1024, kb["Cached"] / 1024};
}

struct Interval {
    uint64_t accesses, hits, misses, dirties;
    double ratio; // 0..1
};

int64_t delta(uint64_t now, uint64_t before) {
    return static_cast<int64_t>(now - before);
}

// a - b, held within int64_t (a recorded or fuzzed input can hold anything).
int64_t difference(int64_t a, int64_t b) {
    int64_t d;
    if (__builtin_sub_overflow(a, b, &d)) return b < 0 ? INT64_MAX : INT64_MIN;
    return d;
}

// The tracepoint way: accesses are the pages reads and faults looked up;
// misses the pages inserted for them (insertions a write made are not
// misses). Readahead can insert pages in an interval before the one in
// which they are read, so misses can exceed accesses: then hits are 0.
Interval from_tracepoints(const Totals& now, const Totals& before) {
    Interval i{};
    i.accesses = (now.read_pages - before.read_pages) + (now.faults - before.faults);
    int64_t misses =
        difference(delta(now.added, before.added), delta(now.added_dirtied, before.added_dirtied));
    i.misses = misses > 0 ? static_cast<uint64_t>(misses) : 0;
    i.hits = i.accesses > i.misses ? i.accesses - i.misses : 0;
    i.dirties = now.dirtied - before.dirtied;
    return i;
}

// The classic way, by calls: accesses are marks of accessed folios less
// buffer dirtying, misses the insertions less the folios dirtied; when
// misses exceed accesses, all accesses count as misses.
Interval from_functions(const Totals& now, const Totals& before) {
    int64_t total = difference(delta(now.calls_accessed, before.calls_accessed),
                               delta(now.calls_buffer_dirty, before.calls_buffer_dirty));
    int64_t misses = difference(delta(now.calls_added, before.calls_added),
                                delta(now.dirtied_folios, before.dirtied_folios));
    total = std::max<int64_t>(total, 0);
    misses = std::max<int64_t>(misses, 0);
    int64_t hits = total - misses;
    if (hits < 0) {
        misses = total;
        hits = 0;
    }
    Interval i{};
    i.accesses = static_cast<uint64_t>(total);
    i.hits = static_cast<uint64_t>(hits);
    i.misses = static_cast<uint64_t>(misses);
    i.dirties = now.calls_buffer_dirty - before.calls_buffer_dirty;
    return i;
}

// One line per interval: what the counters added since the last one.
class Printer {
  public:
    // by_functions: counted on the classic functions rather than on
    // tracepoints; live: Buffers and Cached read from /proc/meminfo
    // (decoders show 0).
    Printer(const CommonOptions& options, Output& out, Totals start, bool by_functions, bool live)
        : records_(options, out, layout()), before_(start), by_functions_(by_functions),
          live_(live) {
        records_.header();
    }

    void print(const Totals& now) {
        Interval i = by_functions_ ? from_functions(now, before_) : from_tracepoints(now, before_);
        before_ = now;
        double ratio = i.hits + i.misses
                           ? static_cast<double>(i.hits) / static_cast<double>(i.hits + i.misses)
                           : 0;
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
    Totals before_;
    bool by_functions_;
    bool live_;
};

std::vector<AttachStep> attach_steps() {
    auto filemap = [](AttachKind kind, const char* prefix) {
        auto target = [kind](const char* group, const char* event) {
            return kind == AttachKind::tracepoint ? std::string(group) + ":" + event
                                                  : std::string(event);
        };
        std::string p(prefix);
        return AttachWay{{{p + "_get_pages", kind, target("filemap", "mm_filemap_get_pages")},
                          {p + "_fault", kind, target("filemap", "mm_filemap_fault")},
                          {p + "_add", kind, target("filemap", "mm_filemap_add_to_page_cache")},
                          {p + "_dirty", kind, target("writeback", "writeback_dirty_folio")}}};
    };
    auto functions = [](AttachKind kind, const char* prefix) {
        std::string p(prefix);
        return AttachWay{{{p + "_accessed", kind, "folio_mark_accessed"},
                          {p + "_added", kind, "filemap_add_folio"},
                          {p + "_buffer_dirty", kind, "mark_buffer_dirty"},
                          {"raw_dirty", AttachKind::raw_tp, "writeback_dirty_folio"}}};
    };
    // One step, so that every count comes from the same way.
    return {{"page cache activity",
             {functions(AttachKind::fentry, "fentry"), functions(AttachKind::kprobe, "kprobe"),
              filemap(AttachKind::tp_btf, "btf"), filemap(AttachKind::raw_tp, "raw"),
              filemap(AttachKind::tracepoint, "tp")}}};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the counters at the
// end of each interval (key, then cachestat_counters summed over the CPUs),
// the first interval counted from zero; variant bit 0: counted on the
// classic functions (the fentry and kprobe ways).
void decode_cachestat(const CommonOptions& options, uint32_t variant, Output& out,
                      std::span<const RecordedEvent> events) {
    Printer printer(options, out, {}, (variant & 1) != 0, false);
    for (const auto& e : recorded_entries<uint32_t, Totals>(events))
        printer.print(e.value);
}

int cachestat(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("cachestat",
                    "Count page cache hits, misses and dirtied pages every interval (default 1 s).",
                    {Flag::time, Flag::duration, Flag::interval});
    cli.set_examples("  cachestat                 a line every second until Ctrl-C\n"
                     "  cachestat -T 5            every 5 seconds, with times\n"
                     "  cachestat 1 10            ten one-second lines\n"
                     "  cachestat -o json -d 60   one minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (!options.interval) options.interval = 1;

    return run_summary_tool<cachestat_bpf>(
        {.name = "cachestat",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [](cachestat_bpf& skel, const AttachPlan&) {
                 skel.rodata->page_shift = static_cast<__u32>(
                     __builtin_ctzl(static_cast<unsigned long>(sysconf(_SC_PAGESIZE))));
             },
         .announcement = "Counting page cache activity... Hit Ctrl-C to end."},
        [&](cachestat_bpf& skel, const AttachPlan& plan, Output& out) {
            bool by_functions = plan.uses("fentry_accessed") || plan.uses("kprobe_accessed");
            return
                [printer =
                     Printer(options, out, read_totals(skel.maps.counters), by_functions, true),
                 counters = skel.maps.counters]() mutable { printer.print(read_totals(counters)); };
        });
}

} // namespace corescope::tools
