// Page cache hits, misses and dirtied pages from the counters of the shared
// page cache programs (bpf/page_cache.bpf.h), for cachestat and triage.
#pragma once

#include "attach_plan.h"

#include <linux/types.h>

#include "page_cache_counters.h"

#include <cstdint>
#include <vector>

struct bpf_map;

namespace corescope {

using PageCacheCounters = page_cache_counters;

// The counters summed over the CPUs (the map page_cache_totals).
PageCacheCounters read_page_cache_counters(const bpf_map* totals);

using PageCacheProcessKey = page_cache_process_key;

struct PageCacheProcess {
    PageCacheProcessKey key;
    PageCacheCounters counters{}; // summed over the CPUs
};

// Every process's counters in page_cache_processes (the map of a tool that
// counts by process, PAGE_CACHE_BY_PROCESS in bpf/page_cache.bpf.h), each
// entry deleted as it is read, so that the next reading starts from zero.
std::vector<PageCacheProcess> take_page_cache_processes(const bpf_map* processes);

// What happened between two readings.
struct PageCacheActivity {
    uint64_t accesses = 0, hits = 0, misses = 0, dirties = 0;
    // Of the dirtied pages, those a write created (not in the cache before);
    // known on the tracepoint ways only (writes_known).
    uint64_t dirties_created = 0;
    bool writes_known = false;
    // hits / (hits + misses), 0..1; 0 when there was no access.
    double hit_ratio() const;
    // Of the dirtied pages, the share that was in the cache already, 0..1;
    // 0 when none was dirtied.
    double write_hit_ratio() const;
};

// by_functions: counted on the classic kernel functions (fentry, kprobe)
// rather than on the tracepoints; the two count differently.
PageCacheActivity page_cache_activity(const PageCacheCounters& now, const PageCacheCounters& before,
                                      bool by_functions);

// One step, so that every count comes from the same way: the kernel
// functions by fentry, then kprobe, then the tracepoints by tp_btf, raw_tp
// and tracefs.
AttachStep page_cache_attach_step();

// Whether the plan counts on the kernel functions.
bool page_cache_by_functions(const AttachPlan& plan);

// The page shift page_cache_page_shift wants (12 for 4 KiB pages).
uint32_t page_shift();

} // namespace corescope
