// Page cache hits, misses and dirtied pages from the counters of the shared
// page cache programs (bpf/page_cache.bpf.h), for cachestat and triage.
#pragma once

#include "attach_plan.h"

#include <linux/types.h>

#include "page_cache_counters.h"

#include <cstdint>

struct bpf_map;

namespace corescope {

using PageCacheCounters = page_cache_counters;

// The counters summed over the CPUs (the map page_cache_totals).
PageCacheCounters read_page_cache_counters(const bpf_map* totals);

// What happened between two readings.
struct PageCacheActivity {
    uint64_t accesses = 0, hits = 0, misses = 0, dirties = 0;
    // hits / (hits + misses), 0..1; 0 when there was no access.
    double hit_ratio() const;
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
