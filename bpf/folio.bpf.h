/* Page cache folios: a folio's size in pages (page_cache.bpf.h, readahead). */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/* The folio's size in pages, on kernels before and after the order moved
 * from _folio_order (6.1) into _flags_1. */
struct folio___v61 {
	unsigned char _folio_order;
} __attribute__((preserve_access_index));

static __always_inline __u64 page_cache_folio_pages(struct folio *folio)
{
	unsigned long flags = 0, flags_1 = 0;
	unsigned char order;
	int head = bpf_core_enum_value(enum pageflags, PG_head);

	/* flags is the folio's first word, whatever its C type. */
	bpf_probe_read_kernel(&flags, sizeof(flags), folio);
	if (!(flags & (1UL << (head & 63))))
		return 1;
	if (bpf_core_field_exists(((struct folio___v61 *)0)->_folio_order)) {
		order = BPF_CORE_READ((struct folio___v61 *)folio, _folio_order);
	} else {
		flags_1 = BPF_CORE_READ(folio, _flags_1);
		order = flags_1 & 0xff;
	}
	return 1ULL << (order & 31);
}
