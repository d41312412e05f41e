// SPDX-License-Identifier: GPL-2.0
/* cachestat: page cache accesses, insertions and dirtied pages, counted by
 * the shared page cache programs (bpf/page_cache.bpf.h says how). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "page_cache.bpf.h"

char LICENSE[] SEC("license") = "GPL";

PAGE_CACHE_PROGRAMS()
