// SPDX-License-Identifier: GPL-2.0
/* cachestat: page cache accesses, insertions and dirtied pages, counted on
 * the filemap and writeback tracepoints.
 *
 * - mm_filemap_get_pages fires once per batch a read() takes from the page
 *   cache, with the read's whole remaining page range. One read can take
 *   several batches, each reporting the same last page and a later first
 *   page: only the first counts, so a read's pages count once. Where the
 *   tracepoint hands over the mapping (tp_btf, raw_tp) the range is cut at
 *   end of file.
 * - mm_filemap_fault: a fault on a file mapping looked up one page.
 * - mm_filemap_add_to_page_cache: a folio (a page on a miss, or readahead)
 *   entered the cache.
 * - writeback_dirty_folio: a folio turned dirty. When it is the folio this
 *   thread just inserted, a write created it: that insertion was not a
 *   read's miss.
 *
 * Where kernel functions can be traced (fentry, else kprobes), the first
 * way counts like the classic cachestat instead: calls to
 * folio_mark_accessed (accesses), filemap_add_folio (insertions) and
 * mark_buffer_dirty, with writeback_dirty_folio for the dirtied folios.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "cachestat/cachestat.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 page_shift = 12;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cachestat_counters);
} counters SEC(".maps");

/* What a thread did last: the read whose batches are still coming, and the
 * folio it inserted last. */
struct thread_state {
	__u64 read_ino;
	__u64 read_index;
	__u64 read_last;
	__u64 added_ino;
	__u64 added_index;
	__u64 added_pages;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct thread_state);
} threads SEC(".maps");

static __always_inline struct cachestat_counters *my_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline struct thread_state *my_state(bool create)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct thread_state *state = bpf_map_lookup_elem(&threads, &tid);
	struct thread_state fresh = {};

	if (state || !create)
		return state;
	bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&threads, &tid);
}

static __always_inline void count_read(__u64 ino, __u64 index, __u64 last)
{
	struct cachestat_counters *c = my_counters();
	struct thread_state *state = my_state(true);

	if (!c || !state || index > last)
		return;
	/* A later batch of the read counted already. */
	if (state->read_ino == ino && state->read_last == last && index > state->read_index) {
		state->read_index = index;
		return;
	}
	state->read_ino = ino;
	state->read_index = index;
	state->read_last = last;
	c->read_pages += last - index + 1;
}

static __always_inline void count_fault(void)
{
	struct cachestat_counters *c = my_counters();

	if (c)
		c->faults += 1;
}

static __always_inline void count_added(__u64 ino, __u64 index, __u64 pages)
{
	struct cachestat_counters *c = my_counters();
	struct thread_state *state = my_state(true);

	if (!c)
		return;
	c->added += pages;
	if (state) {
		state->added_ino = ino;
		state->added_index = index;
		state->added_pages = pages;
	}
}

/* pages: 0 when the tracepoint does not say (then the size of the matching
 * insertion, or 1). */
static __always_inline void count_dirtied(__u64 ino, __u64 index, __u64 pages)
{
	struct cachestat_counters *c = my_counters();
	struct thread_state *state = my_state(false);

	if (!c)
		return;
	if (state && state->added_pages && state->added_ino == ino && state->added_index == index) {
		if (!pages)
			pages = state->added_pages;
		c->added_dirtied += state->added_pages;
		state->added_pages = 0;
	}
	c->dirtied += pages ? pages : 1;
	c->dirtied_folios += 1;
}

/* The folio's size in pages, on kernels before and after the order moved
 * from _folio_order (6.1) into _flags_1. */
struct folio___v61 {
	unsigned char _folio_order;
} __attribute__((preserve_access_index));

static __always_inline __u64 folio_pages(struct folio *folio)
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

/* The last page of the range that exists (the file may end sooner). */
static __always_inline __u64 clamp_to_eof(struct address_space *mapping, __u64 last)
{
	__u64 size = BPF_CORE_READ(mapping, host, i_size);
	__u64 eof_last = (size - 1) >> page_shift; /* size > 0: the caller checked */

	return last < eof_last ? last : eof_last;
}

/* tp_btf hands over typed pointers the verifier wants null-checked. */

static __always_inline void on_get_pages(struct address_space *mapping, __u64 index, __u64 last)
{
	if (!mapping)
		return;
	if (BPF_CORE_READ(mapping, host, i_size) <= (loff_t)(index << page_shift))
		return;
	count_read(BPF_CORE_READ(mapping, host, i_ino), index, clamp_to_eof(mapping, last));
}

static __always_inline void on_add(struct folio *folio)
{
	if (!folio)
		return;
	count_added(BPF_CORE_READ(folio, mapping, host, i_ino), BPF_CORE_READ(folio, index),
		    folio_pages(folio));
}

static __always_inline void on_dirty(struct folio *folio, struct address_space *mapping)
{
	if (!folio || !mapping)
		return;
	count_dirtied(BPF_CORE_READ(mapping, host, i_ino), BPF_CORE_READ(folio, index),
		      folio_pages(folio));
}

/* The classic way: kernel functions, by fentry or kprobe. */

SEC("fentry/folio_mark_accessed")
int BPF_PROG(fentry_accessed)
{
	struct cachestat_counters *c = my_counters();

	if (c)
		c->calls_accessed += 1;
	return 0;
}

SEC("fentry/filemap_add_folio")
int BPF_PROG(fentry_added)
{
	struct cachestat_counters *c = my_counters();

	if (c)
		c->calls_added += 1;
	return 0;
}

SEC("fentry/mark_buffer_dirty")
int BPF_PROG(fentry_buffer_dirty)
{
	struct cachestat_counters *c = my_counters();

	if (c)
		c->calls_buffer_dirty += 1;
	return 0;
}

SEC("kprobe/folio_mark_accessed")
int BPF_KPROBE(kprobe_accessed)
{
	struct cachestat_counters *c = my_counters();

	if (c)
		c->calls_accessed += 1;
	return 0;
}

SEC("kprobe/filemap_add_folio")
int BPF_KPROBE(kprobe_added)
{
	struct cachestat_counters *c = my_counters();

	if (c)
		c->calls_added += 1;
	return 0;
}

SEC("kprobe/mark_buffer_dirty")
int BPF_KPROBE(kprobe_buffer_dirty)
{
	struct cachestat_counters *c = my_counters();

	if (c)
		c->calls_buffer_dirty += 1;
	return 0;
}

/* The tracepoint way, tier 1: BTF-typed tracepoints. */

SEC("tp_btf/mm_filemap_get_pages")
int BPF_PROG(btf_get_pages, struct address_space *mapping, unsigned long index, unsigned long last)
{
	on_get_pages(mapping, index, last);
	return 0;
}

SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(btf_fault, struct address_space *mapping, unsigned long index)
{
	count_fault();
	return 0;
}

SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(btf_add, struct folio *folio)
{
	on_add(folio);
	return 0;
}

SEC("tp_btf/writeback_dirty_folio")
int BPF_PROG(btf_dirty, struct folio *folio, struct address_space *mapping)
{
	on_dirty(folio, mapping);
	return 0;
}

/* Tier 2: raw tracepoints, the same arguments untyped. */

SEC("raw_tp/mm_filemap_get_pages")
int BPF_PROG(raw_get_pages, struct address_space *mapping, unsigned long index, unsigned long last)
{
	on_get_pages(mapping, index, last);
	return 0;
}

SEC("raw_tp/mm_filemap_fault")
int BPF_PROG(raw_fault, struct address_space *mapping, unsigned long index)
{
	count_fault();
	return 0;
}

SEC("raw_tp/mm_filemap_add_to_page_cache")
int BPF_PROG(raw_add, struct folio *folio)
{
	on_add(folio);
	return 0;
}

SEC("raw_tp/writeback_dirty_folio")
int BPF_PROG(raw_dirty, struct folio *folio, struct address_space *mapping)
{
	on_dirty(folio, mapping);
	return 0;
}

/* Tier 3: tracefs tracepoints, which carry inode numbers and indexes but
 * not the file size (no end-of-file cut) nor a dirtied folio's size. */

SEC("tracepoint/filemap/mm_filemap_get_pages")
int tp_get_pages(struct trace_event_raw_mm_filemap_op_page_cache_range *ctx)
{
	count_read(ctx->i_ino, ctx->index, ctx->last_index);
	return 0;
}

SEC("tracepoint/filemap/mm_filemap_fault")
int tp_fault(void *ctx)
{
	count_fault();
	return 0;
}

SEC("tracepoint/filemap/mm_filemap_add_to_page_cache")
int tp_add(struct trace_event_raw_mm_filemap_op_page_cache *ctx)
{
	__u64 pages = 1;

	if (bpf_core_field_exists(ctx->order))
		pages = 1ULL << (BPF_CORE_READ(ctx, order) & 31);
	count_added(ctx->i_ino, ctx->index, pages);
	return 0;
}

SEC("tracepoint/writeback/writeback_dirty_folio")
int tp_dirty(struct trace_event_raw_writeback_folio_template *ctx)
{
	count_dirtied(ctx->ino, ctx->index, 0);
	return 0;
}
