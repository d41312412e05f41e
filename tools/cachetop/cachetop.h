/* cachetop's map is page_cache_processes (bpf/page_cache.bpf.h with
 * PAGE_CACHE_BY_PROCESS): its key, struct page_cache_process_key, and its
 * value, struct page_cache_counters, are in bpf/page_cache_counters.h,
 * shared with cachestat and triage. */
#pragma once

#include "page_cache_counters.h"
