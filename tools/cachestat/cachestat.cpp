// cachestat: page cache hits, misses and dirtied pages per interval, with
// the buffers and cached sizes from /proc/meminfo.
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

Totals read_totals(struct bpf_map* map) {
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) throw RuntimeError(errno_message("cannot count the CPUs", cpus));
    std::vector<cachestat_counters> per_cpu(static_cast<size_t>(cpus));
    uint32_t zero = 0;
    int err = bpf_map__lookup_elem(map, &zero, sizeof zero, per_cpu.data(),
                                   per_cpu.size() * sizeof(cachestat_counters), 0);
    if (err) throw RuntimeError(errno_message("cannot read the page cache counters", err));
    Totals t{};
    for (const cachestat_counters& c : per_cpu) {
        t.read_pages += c.read_pages;
        t.faults += c.faults;
        t.added += c.added;
        t.added_dirtied += c.added_dirtied;
        t.dirtied += c.dirtied;
        t.calls_accessed += c.calls_accessed;
        t.calls_added += c.calls_added;
        t.calls_buffer_dirty += c.calls_buffer_dirty;
        t.dirtied_folios += c.dirtied_folios;
    }
    return t;
}

// Buffers and Cached from /proc/meminfo, in MiB.
std::pair<uint64_t, uint64_t> buffers_and_cached_mb() {
    std::string meminfo = read_text_file("/proc/meminfo").value_or("");
    uint64_t buffers = 0, cached = 0;
    for (std::string_view line : split_lines(meminfo)) {
        std::vector<std::string_view> words = split_words(line);
        if (words.size() < 2) continue;
        uint64_t kb = std::strtoull(std::string(words[1]).c_str(), nullptr, 10);
        if (words[0] == "Buffers:") buffers = kb;
        if (words[0] == "Cached:") cached = kb;
    }
    return {buffers / 1024, cached / 1024};
}

struct Interval {
    uint64_t accesses, hits, misses, dirties;
    double ratio; // 0..1
};

int64_t delta(uint64_t now, uint64_t before) {
    return static_cast<int64_t>(now - before);
}

// The tracepoint way: accesses are the pages reads and faults looked up;
// misses the pages inserted for them (insertions a write made are not
// misses). Readahead can insert pages in an interval before the one in
// which they are read, so misses can exceed accesses: then hits are 0.
Interval from_tracepoints(const Totals& now, const Totals& before) {
    Interval i{};
    i.accesses = (now.read_pages - before.read_pages) + (now.faults - before.faults);
    int64_t misses =
        delta(now.added, before.added) - delta(now.added_dirtied, before.added_dirtied);
    i.misses = misses > 0 ? static_cast<uint64_t>(misses) : 0;
    i.hits = i.accesses > i.misses ? i.accesses - i.misses : 0;
    i.dirties = now.dirtied - before.dirtied;
    return i;
}

// The classic way, by calls: accesses are marks of accessed folios less
// buffer dirtying, misses the insertions less the folios dirtied; when
// misses exceed accesses, all accesses count as misses.
Interval from_functions(const Totals& now, const Totals& before) {
    int64_t total = delta(now.calls_accessed, before.calls_accessed) -
                    delta(now.calls_buffer_dirty, before.calls_buffer_dirty);
    int64_t misses = delta(now.calls_added, before.calls_added) -
                     delta(now.dirtied_folios, before.dirtied_folios);
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
struct Printer {
    const CommonOptions& options;
    Output& out;
    struct bpf_map* counters;
    bool by_functions; // counted on the classic functions rather than on tracepoints
    Totals before = read_totals(counters);

    void header() {
        if (options.format != OutputFormat::text) return;
        if (options.time) out.buffer() += "TIME     ";
        out.buffer() += "    HITS   MISSES  DIRTIES HITRATIO   BUFFERS_MB  CACHED_MB\n";
        out.flush();
    }

    void print() {
        Totals now = read_totals(counters);
        Interval i = by_functions ? from_functions(now, before) : from_tracepoints(now, before);
        i.ratio = i.hits + i.misses
                      ? static_cast<double>(i.hits) / static_cast<double>(i.hits + i.misses)
                      : 0;
        before = now;
        auto [buffers_mb, cached_mb] = buffers_and_cached_mb();
        std::string& b = out.buffer();
        if (options.format == OutputFormat::json) {
            JsonObject(b)
                .string("time", iso_time_now())
                .unsigned_number("hits", i.hits)
                .unsigned_number("misses", i.misses)
                .unsigned_number("dirties", i.dirties)
                .real("hit_ratio", i.ratio, 4)
                .unsigned_number("accesses", i.accesses)
                .unsigned_number("buffers_mb", buffers_mb)
                .unsigned_number("cached_mb", cached_mb)
                .end_line();
        } else {
            if (options.time) {
                append_wall_time(b);
                b += ' ';
            }
            char line[128];
            snprintf(line, sizeof line, "%8llu %8llu %8llu %7.2f%% %12llu %10llu\n",
                     static_cast<unsigned long long>(i.hits),
                     static_cast<unsigned long long>(i.misses),
                     static_cast<unsigned long long>(i.dirties), i.ratio * 100,
                     static_cast<unsigned long long>(buffers_mb),
                     static_cast<unsigned long long>(cached_mb));
            b += line;
        }
        out.end_record();
    }
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
            Printer printer{options, out, skel.maps.counters,
                            plan.uses("fentry_accessed") || plan.uses("kprobe_accessed")};
            printer.header();
            return printer;
        });
}

} // namespace corescope::tools
