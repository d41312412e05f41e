// cachetop: page cache hits, misses and dirtied pages by process each
// interval, with cachestat's definitions, refreshed like top on a terminal,
// as lines in a pipe, one JSON record per interval with -o json.
#include "decoder.h"
#include "filters.h"
#include "page_cache.h"
#include "run.h"
#include "text_file.h"
#include "top_table.h"

#include <linux/types.h>
#include "cachetop.skel.h"
#include "cachetop/cachetop.h"

#include <map>
#include <tuple>

namespace corescope::tools {

namespace {

enum class SortKey { pid, uid, comm, hits, misses, dirties, read_hit, write_hit };

struct Settings {
    TopOptions top;
    SortKey sort = SortKey::hits;
    bool reverse = false; // -R: ascending
};

struct Row {
    const PageCacheProcess* process;
    PageCacheActivity a;
};

class Printer {
  public:
    // by_functions: counted on the classic functions rather than on
    // tracepoints; live: Buffers and Cached read from /proc/meminfo
    // (decoders show 0); clear: a terminal that is redrawn like top.
    Printer(const CommonOptions& options, const Settings& settings, Output& out, bool clear,
            bool by_functions, bool live)
        : settings_(settings), name_(options.name), by_functions_(by_functions), live_(live),
          table_(options, out, settings.top, clear, row_layout(),
                 {json_field("hits"), json_field("misses"), json_field("dirties"),
                  json_field("processes"), json_field("buffers_mb"), json_field("cached_mb")},
                 fixed_load_average, false) {}

    void print(const std::vector<PageCacheProcess>& processes) {
        std::vector<Row> rows;
        PageCacheActivity total;
        for (const PageCacheProcess& p : processes) {
            // -n: the command is part of the key, so the filter drops whole rows.
            if (!comm_matches(fixed_string(p.key.comm), name_)) continue;
            Row r{&p, page_cache_activity(p.counters, {}, by_functions_)};
            if (!r.a.accesses && !r.a.misses && !r.a.dirties) continue;
            total.hits += r.a.hits;
            total.misses += r.a.misses;
            total.dirties += r.a.dirties;
            rows.push_back(r);
        }
        size_t count = table_.rank(rows, [&](const Row& x, const Row& y) {
            auto k = [&](const Row& r) -> double {
                switch (settings_.sort) {
                case SortKey::hits:
                    return static_cast<double>(r.a.hits);
                case SortKey::misses:
                    return static_cast<double>(r.a.misses);
                case SortKey::dirties:
                    return static_cast<double>(r.a.dirties);
                case SortKey::read_hit:
                    return r.a.hit_ratio();
                case SortKey::write_hit:
                    return r.a.write_hit_ratio();
                case SortKey::pid:
                    return -static_cast<double>(r.process->key.tgid);
                case SortKey::uid:
                    return -static_cast<double>(r.process->key.uid);
                case SortKey::comm:
                    return 0;
                }
                return 0;
            };
            double kx = k(x), ky = k(y);
            if (settings_.sort == SortKey::comm) {
                int c =
                    fixed_string(x.process->key.comm).compare(fixed_string(y.process->key.comm));
                if (c) return settings_.reverse ? c > 0 : c < 0;
            } else if (kx != ky) {
                return settings_.reverse ? kx < ky : kx > ky;
            }
            return std::tuple(x.process->key.tgid, fixed_string(x.process->key.comm),
                              x.process->key.uid) < std::tuple(y.process->key.tgid,
                                                               fixed_string(y.process->key.comm),
                                                               y.process->key.uid);
        });
        std::map<std::string, uint64_t> kb;
        if (live_) kb = read_name_values("/proc/meminfo");
        uint64_t buffers_mb = kb["Buffers"] / 1024, cached_mb = kb["Cached"] / 1024;
        std::string headline;
        if (!table_.json()) {
            append_wall_time(headline);
            headline += " Buffers MB: " + std::to_string(buffers_mb) +
                        " / Cached MB: " + std::to_string(cached_mb) + "\n";
        }
        table_.begin(headline);
        for (const Row& r : rows) {
            Record rec = table_.row();
            rec.number(r.process->key.tgid)
                .number(r.process->key.uid)
                .text(fixed_string(r.process->key.comm))
                .number(r.a.hits)
                .number(r.a.misses)
                .number(r.a.dirties);
            // No lookup, or no dirtied page (or no way to tell): no ratio.
            bool reads = r.a.hits + r.a.misses > 0, writes = r.a.writes_known && r.a.dirties;
            reads ? rec.real(r.a.hit_ratio() * 100) : rec.null();
            writes ? rec.real(r.a.write_hit_ratio() * 100) : rec.null();
            reads ? rec.real(r.a.hit_ratio()) : rec.null();
            writes ? rec.real(r.a.write_hit_ratio()) : rec.null();
            rec.number(r.a.accesses).end();
        }
        table_.end([&](Record& t) {
            t.number(total.hits)
                .number(total.misses)
                .number(total.dirties)
                .number(count)
                .number(buffers_mb)
                .number(cached_mb);
        });
    }

  private:
    static RecordLayout row_layout() {
        return {0,
                {column("pid", "PID", 7, Align::right), column("uid", "UID", 6, Align::right),
                 column("comm", "CMD", 16), column("hits", "HITS", 8, Align::right),
                 column("misses", "MISSES", 8, Align::right),
                 column("dirties", "DIRTIES", 8, Align::right),
                 with_suffix("%", with_decimals(1, text_column("READ_HIT%", 9, Align::right))),
                 with_suffix("%", with_decimals(1, text_column("WRITE_HIT%", 10, Align::right))),
                 with_decimals(4, json_field("read_hit_ratio")),
                 with_decimals(4, json_field("write_hit_ratio")), json_field("accesses")}};
    }

    Settings settings_;
    std::string name_;
    bool by_functions_;
    bool live_;
    TopTable table_;
};

SortKey parse_sort(std::string_view v) {
    std::string s(v);
    for (char& c : s)
        c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    if (s == "pid") return SortKey::pid;
    if (s == "uid" || s == "user") return SortKey::uid;
    if (s == "cmd" || s == "comm") return SortKey::comm;
    if (s == "hits") return SortKey::hits;
    if (s == "misses") return SortKey::misses;
    if (s == "dirties") return SortKey::dirties;
    if (s == "read_hit%" || s == "read_hit") return SortKey::read_hit;
    if (s == "write_hit%" || s == "write_hit") return SortKey::write_hit;
    throw UsageError("invalid sort field '" + std::string(v) +
                     "' (pid, uid, cmd, hits, misses, dirties, read_hit% or write_hit%)");
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the entries of one
// interval's map (struct page_cache_process_key, then page_cache_counters
// summed over the CPUs). Variant bit 0: counted on the classic functions;
// bit 1: -r 2 -s misses; bit 2: -s cmd -R; bit 3: the screen cleared as on
// a terminal. Buffers and Cached show 0.
void decode_cachetop(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    Settings settings;
    if (variant & 2) {
        settings.top.rows = 2;
        settings.sort = SortKey::misses;
    }
    if (variant & 4) {
        settings.sort = SortKey::comm;
        settings.reverse = true;
    }
    std::vector<PageCacheProcess> processes;
    for (const auto& e : recorded_entries<PageCacheProcessKey, PageCacheCounters>(events))
        processes.push_back({e.key, e.value});
    Printer(options, settings, out, (variant & 8) != 0, (variant & 1) != 0, false).print(processes);
}

int cachetop(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("cachetop",
                    "Page cache hits, misses and dirtied pages by process, every interval "
                    "(1 s unless given).",
                    {Flag::pid, Flag::uid, Flag::cgroup, Flag::name, Flag::time, Flag::duration,
                     Flag::interval});
    add_top_flags(cli, settings.top, "maxrows", "processes");
    cli.add_switch('R', "reverse", "sort in ascending order", &settings.reverse);
    cli.add_option('s', "sort", "FIELD",
                   "sort by pid, uid, cmd, hits (default), misses, dirties, read_hit% or "
                   "write_hit%",
                   [&](std::string_view v) { settings.sort = parse_sort(v); });
    cli.set_examples("  cachetop                  refresh every second, like top\n"
                     "  cachetop -C 5 3           three tables 5 s apart, screen not cleared\n"
                     "  cachetop -s misses -r 5   the five processes missing the cache most\n"
                     "  cachetop -p 181           page cache activity of process 181\n"
                     "  cachetop -o json 10       JSON Lines, a record every 10 seconds");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (!options.interval) options.interval = 1;
    bool clear = top_clears_screen(options, settings.top);

    return run_summary_tool<cachetop_bpf>(
        {.name = "cachetop",
         .options = options,
         .attach_steps = [] { return std::vector<AttachStep>{page_cache_attach_step()}; },
         .configure = [](cachetop_bpf& skel,
                         const AttachPlan&) { skel.rodata->page_cache_page_shift = page_shift(); },
         .announcement = interval_announcement(options, "Counting page cache activity")},
        [&](cachetop_bpf& skel, const AttachPlan& plan, Output& out) {
            return [&skel, printer = Printer(options, settings, out, clear,
                                             page_cache_by_functions(plan), true)]() mutable {
                printer.print(take_page_cache_processes(skel.maps.page_cache_processes));
                uint64_t dropped = __atomic_exchange_n(&skel.bss->page_cache_processes_dropped, 0,
                                                       __ATOMIC_RELAXED);
                if (dropped)
                    warn("%llu page cache events not counted (table of %d processes full)",
                         static_cast<unsigned long long>(dropped), PAGE_CACHE_PROCESSES);
            };
        });
}

} // namespace corescope::tools
