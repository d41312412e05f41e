/* Page cache activity, counted per CPU, for the tools that measure it
 * (cachestat, triage). Two ways, one chosen per load (see page_cache_attach_
 * step() in common/page_cache.h):
 *
 * - Where kernel functions can be traced (fentry, else kprobes), as the
 *   classic cachestat counts: calls to folio_mark_accessed (accesses),
 *   filemap_add_folio (insertions) and mark_buffer_dirty, with
 *   writeback_dirty_folio for the dirtied folios.
 * - Otherwise the filemap and writeback tracepoints (tp_btf, raw_tp, tracefs):
 *   - mm_filemap_get_pages fires once per batch a read() takes from the page
 *     cache, with the read's whole remaining page range. One read can take
 *     several batches, each reporting the same last page and a later first
 *     page: only the first counts, so a read's pages count once. Where the
 *     tracepoint hands over the mapping (tp_btf, raw_tp) the range is cut at
 *     end of file.
 *   - mm_filemap_fault: a fault on a file mapping looked up one page.
 *   - mm_filemap_add_to_page_cache: a folio (a page on a miss, or readahead)
 *     entered the cache.
 *   - writeback_dirty_folio: a folio turned dirty. When it is the folio this
 *     thread just inserted, a write created it: that insertion was not a
 *     read's miss.
 *
 * PAGE_CACHE_PROGRAMS() writes every program of both ways (fentry_page_
 * accessed, btf_filemap_get_pages, tp_folio_dirty, ...); the loader sets
 * page_cache_page_shift. With PAGE_CACHE_BY_PROCESS defined, the counts go
 * to a map keyed by process instead (see page_cache_my_counters). */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "folio.bpf.h"
#include "page_cache_counters.h"

const volatile __u32 page_cache_page_shift = 12;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct page_cache_counters);
} page_cache_totals SEC(".maps");

/* What a thread did last: the read whose batches are still coming, and the
 * folio it inserted last. */
struct page_cache_thread {
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
	__type(value, struct page_cache_thread);
} page_cache_threads SEC(".maps");

#ifdef PAGE_CACHE_BY_PROCESS
/* A tool that wants the counts by process (cachetop) defines
 * PAGE_CACHE_BY_PROCESS and includes filters.bpf.h before this file: the
 * same counters then go to page_cache_processes, keyed by process, user ID
 * and command, each CPU its own (user space sums and empties them every
 * interval), and only for the tasks the shared filters keep. cachestat and
 * triage, which do not define it, count as before. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, PAGE_CACHE_PROCESSES);
	__type(key, struct page_cache_process_key);
	__type(value, struct page_cache_counters);
} page_cache_processes SEC(".maps");

/* Counts lost to a full page_cache_processes. */
__u64 page_cache_processes_dropped = 0;

static __always_inline struct page_cache_counters *page_cache_my_counters(void)
{
	struct page_cache_process_key key = {};
	struct page_cache_counters zero = {}, *c;

	if (current_filtered_out())
		return NULL;
	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	c = bpf_map_lookup_elem(&page_cache_processes, &key);
	if (c)
		return c;
	bpf_map_update_elem(&page_cache_processes, &key, &zero, BPF_NOEXIST);
	c = bpf_map_lookup_elem(&page_cache_processes, &key);
	if (!c)
		__sync_fetch_and_add(&page_cache_processes_dropped, 1);
	return c;
}
#else
static __always_inline struct page_cache_counters *page_cache_my_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&page_cache_totals, &zero);
}
#endif

static __always_inline struct page_cache_thread *page_cache_my_thread(bool create)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct page_cache_thread *state = bpf_map_lookup_elem(&page_cache_threads, &tid);
	struct page_cache_thread fresh = {};

	if (state || !create)
		return state;
	bpf_map_update_elem(&page_cache_threads, &tid, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&page_cache_threads, &tid);
}

/* The counters (c) come first from their callers: page_cache_my_counters()
 * applies cachetop's filters, which should spare a filtered-out task the
 * probe reads that find the inode. */
static __always_inline void page_cache_count_read(struct page_cache_counters *c, __u64 ino,
						  __u64 index, __u64 last)
{
	struct page_cache_thread *state = c ? page_cache_my_thread(true) : NULL;

	if (!state || index > last)
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

static __always_inline void page_cache_count_fault(void)
{
	struct page_cache_counters *c = page_cache_my_counters();

	if (c)
		c->faults += 1;
}

static __always_inline void page_cache_count_added(struct page_cache_counters *c, __u64 ino,
						   __u64 index, __u64 pages)
{
	struct page_cache_thread *state;

	if (!c)
		return;
	state = page_cache_my_thread(true);
	c->added += pages;
	if (state) {
		state->added_ino = ino;
		state->added_index = index;
		state->added_pages = pages;
	}
}

/* pages: 0 when the tracepoint does not say (then the size of the matching
 * insertion, or 1). */
static __always_inline void page_cache_count_dirtied(struct page_cache_counters *c, __u64 ino,
						     __u64 index, __u64 pages)
{
	struct page_cache_thread *state;

	if (!c)
		return;
	state = page_cache_my_thread(false);
	if (state && state->added_pages && state->added_ino == ino && state->added_index == index) {
		if (!pages)
			pages = state->added_pages;
		c->added_dirtied += state->added_pages;
		state->added_pages = 0;
	}
	c->dirtied += pages ? pages : 1;
	c->dirtied_folios += 1;
}

/* The classic way's calls. */
enum page_cache_call { PAGE_CACHE_ACCESSED, PAGE_CACHE_ADDED, PAGE_CACHE_BUFFER_DIRTY };

static __always_inline void page_cache_count_call(enum page_cache_call call)
{
	struct page_cache_counters *c = page_cache_my_counters();

	if (!c)
		return;
	if (call == PAGE_CACHE_ACCESSED)
		c->calls_accessed += 1;
	else if (call == PAGE_CACHE_ADDED)
		c->calls_added += 1;
	else
		c->calls_buffer_dirty += 1;
}

/* tp_btf hands over typed pointers the verifier wants null-checked. */

/* The inode is read once, and its size once: each BPF_CORE_READ step is a
 * probe read (a helper call), and this runs for every cached read. Reads
 * past the end of file count nothing; the range is cut at the last page
 * that exists (the file may end sooner). */
static __always_inline void page_cache_on_get_pages(struct address_space *mapping, __u64 index,
						    __u64 last)
{
	struct page_cache_counters *c;
	struct inode *host;
	loff_t size;
	__u64 eof_last;

	if (!mapping)
		return;
	c = page_cache_my_counters();
	if (!c)
		return;
	host = BPF_CORE_READ(mapping, host);
	if (!host)
		return;
	size = BPF_CORE_READ(host, i_size);
	if (size <= (loff_t)(index << page_cache_page_shift))
		return;
	eof_last = (__u64)(size - 1) >> page_cache_page_shift;
	page_cache_count_read(c, BPF_CORE_READ(host, i_ino), index,
			      last < eof_last ? last : eof_last);
}

static __always_inline void page_cache_on_add(struct folio *folio)
{
	struct page_cache_counters *c = folio ? page_cache_my_counters() : NULL;

	if (!c)
		return;
	page_cache_count_added(c, BPF_CORE_READ(folio, mapping, host, i_ino),
			       BPF_CORE_READ(folio, index), page_cache_folio_pages(folio));
}

static __always_inline void page_cache_on_dirty(struct folio *folio, struct address_space *mapping)
{
	struct page_cache_counters *c = folio && mapping ? page_cache_my_counters() : NULL;

	if (!c)
		return;
	page_cache_count_dirtied(c, BPF_CORE_READ(mapping, host, i_ino),
				 BPF_CORE_READ(folio, index), page_cache_folio_pages(folio));
}

/* The typed (tp_btf) and untyped (raw_tp) tracepoints take the same
 * arguments. */
#define PAGE_CACHE_TRACEPOINT_PROGRAMS(kind, prefix)                                               \
	SEC(#kind "/mm_filemap_get_pages")                                                         \
	int BPF_PROG(prefix##_filemap_get_pages, struct address_space *mapping,                    \
		     unsigned long index, unsigned long last)                                      \
	{                                                                                          \
		page_cache_on_get_pages(mapping, index, last);                                     \
		return 0;                                                                          \
	}                                                                                          \
	SEC(#kind "/mm_filemap_fault")                                                             \
	int BPF_PROG(prefix##_filemap_fault)                                                       \
	{                                                                                          \
		page_cache_count_fault();                                                          \
		return 0;                                                                          \
	}                                                                                          \
	SEC(#kind "/mm_filemap_add_to_page_cache")                                                 \
	int BPF_PROG(prefix##_filemap_add, struct folio *folio)                                    \
	{                                                                                          \
		page_cache_on_add(folio);                                                          \
		return 0;                                                                          \
	}                                                                                          \
	SEC(#kind "/writeback_dirty_folio")                                                        \
	int BPF_PROG(prefix##_folio_dirty, struct folio *folio, struct address_space *mapping)     \
	{                                                                                          \
		page_cache_on_dirty(folio, mapping);                                               \
		return 0;                                                                          \
	}

/* mm_filemap_get_pages' record (newer than 6.1), written out (flavoured) so
 * that this also compiles against a vmlinux.h older than it (arm64's, from
 * 6.1). */
struct trace_event_raw_mm_filemap_op_page_cache_range___new {
	long unsigned int i_ino;
	long unsigned int index;
	long unsigned int last_index;
} __attribute__((preserve_access_index));

#define PAGE_CACHE_PROGRAMS()                                                                      \
	SEC("fentry/folio_mark_accessed")                                                          \
	int BPF_PROG(fentry_page_accessed)                                                         \
	{                                                                                          \
		page_cache_count_call(PAGE_CACHE_ACCESSED);                                        \
		return 0;                                                                          \
	}                                                                                          \
	SEC("fentry/filemap_add_folio")                                                            \
	int BPF_PROG(fentry_page_added)                                                            \
	{                                                                                          \
		page_cache_count_call(PAGE_CACHE_ADDED);                                           \
		return 0;                                                                          \
	}                                                                                          \
	SEC("fentry/mark_buffer_dirty")                                                            \
	int BPF_PROG(fentry_buffer_dirty)                                                          \
	{                                                                                          \
		page_cache_count_call(PAGE_CACHE_BUFFER_DIRTY);                                    \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kprobe/folio_mark_accessed")                                                          \
	int BPF_KPROBE(kprobe_page_accessed)                                                       \
	{                                                                                          \
		page_cache_count_call(PAGE_CACHE_ACCESSED);                                        \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kprobe/filemap_add_folio")                                                            \
	int BPF_KPROBE(kprobe_page_added)                                                          \
	{                                                                                          \
		page_cache_count_call(PAGE_CACHE_ADDED);                                           \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kprobe/mark_buffer_dirty")                                                            \
	int BPF_KPROBE(kprobe_buffer_dirty)                                                        \
	{                                                                                          \
		page_cache_count_call(PAGE_CACHE_BUFFER_DIRTY);                                    \
		return 0;                                                                          \
	}                                                                                          \
	PAGE_CACHE_TRACEPOINT_PROGRAMS(tp_btf, btf)                                                \
	PAGE_CACHE_TRACEPOINT_PROGRAMS(raw_tp, raw)                                                \
	/* tracefs: inode numbers and indexes, but not the file size (no                           \
	 * end-of-file cut) nor a dirtied folio's size. */                                         \
	SEC("tracepoint/filemap/mm_filemap_get_pages")                                             \
	int tp_filemap_get_pages(struct trace_event_raw_mm_filemap_op_page_cache_range___new *ctx) \
	{                                                                                          \
		page_cache_count_read(page_cache_my_counters(), ctx->i_ino, ctx->index,            \
				      ctx->last_index);                                            \
		return 0;                                                                          \
	}                                                                                          \
	SEC("tracepoint/filemap/mm_filemap_fault")                                                 \
	int tp_filemap_fault(void *ctx)                                                            \
	{                                                                                          \
		page_cache_count_fault();                                                          \
		return 0;                                                                          \
	}                                                                                          \
	SEC("tracepoint/filemap/mm_filemap_add_to_page_cache")                                     \
	int tp_filemap_add(struct trace_event_raw_mm_filemap_op_page_cache *ctx)                   \
	{                                                                                          \
		__u64 pages = 1;                                                                   \
                                                                                                   \
		if (bpf_core_field_exists(ctx->order))                                             \
			pages = 1ULL << (BPF_CORE_READ(ctx, order) & 31);                          \
		page_cache_count_added(page_cache_my_counters(), ctx->i_ino, ctx->index, pages);   \
		return 0;                                                                          \
	}                                                                                          \
	SEC("tracepoint/writeback/writeback_dirty_folio")                                          \
	int tp_folio_dirty(struct trace_event_raw_writeback_folio_template *ctx)                   \
	{                                                                                          \
		page_cache_count_dirtied(page_cache_my_counters(), ctx->ino, ctx->index, 0);       \
		return 0;                                                                          \
	}
