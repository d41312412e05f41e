// SPDX-License-Identifier: GPL-2.0
/* cachetop: page cache accesses, insertions and dirtied pages by process,
 * counted by the shared page cache programs (bpf/page_cache.bpf.h says how)
 * into a per-CPU hash keyed by process (PAGE_CACHE_BY_PROCESS), which user
 * space sums and empties every interval; the shared filters (-p -u -c)
 * leave other tasks out before any count. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "cachetop/cachetop.h"

#define PAGE_CACHE_BY_PROCESS
#include "page_cache.bpf.h"

char LICENSE[] SEC("license") = "GPL";

PAGE_CACHE_PROGRAMS()
