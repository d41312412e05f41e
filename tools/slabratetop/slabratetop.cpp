// slabratetop: kernel slab allocations by cache each interval: how many and
// their bytes, refreshed like top on a terminal, as lines in a pipe, one
// JSON record per interval with -o json.
#include "decoder.h"
#include "kernel_features.h"
#include "map_reader.h"
#include "run.h"
#include "text_file.h"
#include "top_table.h"

#include <linux/types.h>
#include "slabratetop.skel.h"
#include "slabratetop/slabratetop.h"

#include <algorithm>
#include <map>

namespace corescope::tools {

namespace {

enum class SortKey { size, count, name };

struct Settings {
    TopOptions top;
    SortKey sort = SortKey::size;
};

using Entry = MapEntry<slabratetop_key, slabratetop_value>;

struct Cache {
    std::string name;
    uint64_t allocs = 0;
    uint64_t bytes = 0;
};

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out, bool clear,
            LoadAverage load)
        : sort_(settings.sort),
          table_(options, out, settings.top, clear, row_layout(),
                 {json_field("allocs"), json_field("bytes"), json_field("caches")},
                 std::move(load)) {}

    void print(const std::vector<Entry>& entries) {
        // One row per name: caches of one name (and, on the tracefs tier,
        // the one entry per name) add up.
        std::map<std::string, Cache> by_name;
        uint64_t allocs = 0, bytes = 0;
        for (const Entry& e : entries) {
            std::string name(fixed_string(e.value.name));
            Cache& c = by_name[name];
            c.name = name;
            c.allocs += e.value.allocs;
            c.bytes += e.value.bytes;
            allocs += e.value.allocs;
            bytes += e.value.bytes;
        }
        std::vector<Cache> rows;
        rows.reserve(by_name.size());
        for (auto& [name, c] : by_name)
            rows.push_back(std::move(c));
        size_t caches = table_.rank(rows, [&](const Cache& a, const Cache& b) {
            switch (sort_) {
            case SortKey::size:
                if (a.bytes != b.bytes) return a.bytes > b.bytes;
                break;
            case SortKey::count:
                if (a.allocs != b.allocs) return a.allocs > b.allocs;
                break;
            case SortKey::name:
                break;
            }
            return a.name < b.name;
        });
        table_.begin();
        for (const Cache& c : rows)
            table_.row().text(c.name).number(c.allocs).number(c.bytes).end();
        table_.end([&](Record& t) { t.number(allocs).number(bytes).number(caches); });
    }

  private:
    static RecordLayout row_layout() {
        return {0,
                {column("name", "CACHE", 24), column("allocs", "ALLOCS", 8, Align::right),
                 column("bytes", "BYTES", 12, Align::right)}};
    }

    SortKey sort_;
    TopTable table_;
};

std::vector<AttachStep> attach_steps() {
    KernelFeatures& k = KernelFeatures::instance();
    std::vector<AttachKind> kinds;
    // The cache is the third argument since 6.1 (before, the sizes were).
    if (k.tracepoint_arg_struct("kmem_cache_alloc", 2) == "kmem_cache")
        kinds = {AttachKind::tp_btf, AttachKind::raw_tp};
    // The tracefs record names the cache on recent kernels only.
    if (k.tracepoint_has_field("kmem:kmem_cache_alloc", "name"))
        kinds.push_back(AttachKind::tracepoint);
    if (kinds.empty())
        throw RuntimeError("this kernel's kmem_cache_alloc tracepoint names no slab cache (no "
                           "struct kmem_cache argument in BTF, no name field in tracefs)");
    return {tracepoint_tiers("slab allocations", {{"alloc", "kmem:kmem_cache_alloc"}}, kinds)};
}

SortKey parse_sort(std::string_view v) {
    if (v == "size" || v == "bytes") return SortKey::size;
    if (v == "count" || v == "allocs") return SortKey::count;
    if (v == "name" || v == "cache") return SortKey::name;
    throw UsageError("invalid sort key '" + std::string(v) + "' (size, count or name)");
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the entries of one
// interval's map. Variant bit 0: -r 2 -s count; bit 1: -s name; bit 2: the
// screen cleared as on a terminal. The load average is a fixed string.
void decode_slabratetop(const CommonOptions& options, uint32_t variant, Output& out,
                        std::span<const RecordedEvent> events) {
    Settings settings;
    if (variant & 1) {
        settings.top.rows = 2;
        settings.sort = SortKey::count;
    }
    if (variant & 2) settings.sort = SortKey::name;
    Printer(options, settings, out, (variant & 4) != 0, fixed_load_average)
        .print(recorded_entries<slabratetop_key, slabratetop_value>(events));
}

int slabratetop(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("slabratetop",
                    "Kernel slab allocations by cache: count and bytes, every interval "
                    "(1 s unless given).",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::interval});
    add_top_flags(cli, settings.top, "maxrows", "caches");
    cli.add_option('s', "sort", "KEY", "sort by size (bytes, default), count or name",
                   [&](std::string_view v) { settings.sort = parse_sort(v); });
    cli.set_examples("  slabratetop                 refresh every second, like top\n"
                     "  slabratetop -C 5 3          three tables 5 s apart, screen not cleared\n"
                     "  slabratetop -s count -r 5   the five caches allocated from most often\n"
                     "  slabratetop -p 181          allocations made by process 181\n"
                     "  slabratetop -o json 10      JSON Lines, a record every 10 seconds");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (!options.interval) options.interval = 1;
    bool clear = top_clears_screen(options, settings.top);

    return run_summary_tool<slabratetop_bpf>(
        {.name = "slabratetop",
         .options = options,
         .attach_steps = attach_steps,
         .announcement = interval_announcement(options, "Tracing slab allocations")},
        [&](slabratetop_bpf& skel, const AttachPlan&, Output& out) {
            return [&skel, printer = Printer(options, settings, out, clear,
                                             [] { return load_average(); })]() mutable {
                printer.print(take_map<slabratetop_key, slabratetop_value>(skel.maps.caches));
                uint64_t dropped =
                    __atomic_exchange_n(&skel.bss->allocs_dropped, 0, __ATOMIC_RELAXED);
                if (dropped)
                    warn("%llu allocations not counted (table of %d caches full)",
                         static_cast<unsigned long long>(dropped), SLABRATETOP_CACHES);
            };
        });
}

} // namespace corescope::tools
