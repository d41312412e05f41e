#include "page_cache.h"

#include "errors.h"
#include "map_reader.h"

#include <algorithm>
#include <cstring>
#include <unistd.h>

namespace corescope {

namespace {

void add_counters(PageCacheCounters& sum, const PageCacheCounters& one) {
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
PageCacheActivity from_tracepoints(const PageCacheCounters& now, const PageCacheCounters& before) {
    PageCacheActivity a;
    a.accesses = (now.read_pages - before.read_pages) + (now.faults - before.faults);
    int64_t misses =
        difference(delta(now.added, before.added), delta(now.added_dirtied, before.added_dirtied));
    a.misses = misses > 0 ? static_cast<uint64_t>(misses) : 0;
    a.hits = a.accesses > a.misses ? a.accesses - a.misses : 0;
    a.dirties = now.dirtied - before.dirtied;
    uint64_t created = now.added_dirtied - before.added_dirtied;
    a.dirties_created = std::min(created, a.dirties);
    a.writes_known = true;
    return a;
}

// The classic way, by calls: accesses are marks of accessed folios less
// buffer dirtying, misses the insertions less the folios dirtied; when
// misses exceed accesses, all accesses count as misses.
PageCacheActivity from_functions(const PageCacheCounters& now, const PageCacheCounters& before) {
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
    PageCacheActivity a;
    a.accesses = static_cast<uint64_t>(total);
    a.hits = static_cast<uint64_t>(hits);
    a.misses = static_cast<uint64_t>(misses);
    a.dirties = now.calls_buffer_dirty - before.calls_buffer_dirty;
    return a;
}

} // namespace

PageCacheCounters read_page_cache_counters(const bpf_map* totals) {
    auto entries = read_percpu_map<uint32_t, PageCacheCounters>(totals, add_counters);
    if (entries.empty()) throw RuntimeError("cannot read the page cache counters");
    return entries.front().value;
}

double PageCacheActivity::hit_ratio() const {
    return hits + misses ? static_cast<double>(hits) / static_cast<double>(hits + misses) : 0;
}

double PageCacheActivity::write_hit_ratio() const {
    return dirties ? static_cast<double>(dirties - std::min(dirties_created, dirties)) /
                         static_cast<double>(dirties)
                   : 0;
}

std::vector<PageCacheProcess> take_page_cache_processes(const bpf_map* processes) {
    MapHandle map(processes);
    detail::RawEntries raw =
        detail::read_entries(map, sizeof(PageCacheProcessKey), sizeof(PageCacheCounters), true, 0);
    std::vector<PageCacheProcess> out(raw.count);
    // The kernel gives each CPU's value 8-byte aligned.
    size_t stride = (sizeof(PageCacheCounters) + 7) / 8 * 8;
    size_t cpus = raw.value_bytes / stride;
    for (size_t i = 0; i < raw.count; i++) {
        std::memcpy(&out[i].key, raw.keys.data() + i * sizeof(PageCacheProcessKey),
                    sizeof(PageCacheProcessKey));
        for (size_t cpu = 0; cpu < cpus; cpu++) {
            PageCacheCounters one;
            std::memcpy(&one, raw.values.data() + i * raw.value_bytes + cpu * stride, sizeof one);
            add_counters(out[i].counters, one);
        }
        detail::record_entry(&out[i].key, sizeof out[i].key, &out[i].counters,
                             sizeof out[i].counters);
    }
    return out;
}

PageCacheActivity page_cache_activity(const PageCacheCounters& now, const PageCacheCounters& before,
                                      bool by_functions) {
    return by_functions ? from_functions(now, before) : from_tracepoints(now, before);
}

AttachStep page_cache_attach_step() {
    auto tracepoints = [](AttachKind kind, const char* prefix) {
        auto target = [kind](const char* group, const char* event) {
            return kind == AttachKind::tracepoint ? std::string(group) + ":" + event
                                                  : std::string(event);
        };
        std::string p(prefix);
        return AttachWay{
            {{p + "_filemap_get_pages", kind, target("filemap", "mm_filemap_get_pages")},
             {p + "_filemap_fault", kind, target("filemap", "mm_filemap_fault")},
             {p + "_filemap_add", kind, target("filemap", "mm_filemap_add_to_page_cache")},
             {p + "_folio_dirty", kind, target("writeback", "writeback_dirty_folio")}}};
    };
    auto functions = [](AttachKind kind, const char* prefix) {
        std::string p(prefix);
        return AttachWay{{{p + "_page_accessed", kind, "folio_mark_accessed"},
                          {p + "_page_added", kind, "filemap_add_folio"},
                          {p + "_buffer_dirty", kind, "mark_buffer_dirty"},
                          {"raw_folio_dirty", AttachKind::raw_tp, "writeback_dirty_folio"}}};
    };
    return {"page cache activity",
            {functions(AttachKind::fentry, "fentry"), functions(AttachKind::kprobe, "kprobe"),
             tracepoints(AttachKind::tp_btf, "btf"), tracepoints(AttachKind::raw_tp, "raw"),
             tracepoints(AttachKind::tracepoint, "tp")}};
}

bool page_cache_by_functions(const AttachPlan& plan) {
    return plan.uses("fentry_page_accessed") || plan.uses("kprobe_page_accessed");
}

uint32_t page_shift() {
    return static_cast<uint32_t>(__builtin_ctzl(static_cast<unsigned long>(sysconf(_SC_PAGESIZE))));
}

} // namespace corescope
