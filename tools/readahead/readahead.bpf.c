// SPDX-License-Identifier: GPL-2.0
/* readahead: the folios readahead brings into the page cache, whether and
 * how soon they are used.
 *
 * Read ahead: a folio inserted into the page cache
 * (filemap:mm_filemap_add_to_page_cache) by a thread that is reading ahead.
 * Where kernel functions can be traced (fentry, else kprobes), a thread
 * reads ahead between entry to and return from page_cache_ra_unbounded
 * (and page_cache_ra_order, where the kernel has it as a function); on the
 * tracepoints (readahead:page_cache_ra_unbounded and page_cache_ra_order,
 * 6.10+), the tracepoint gives the window the call will fill (file, first
 * page, pages), and an insertion by that thread into it is read ahead.
 *
 * Used: the first access to such a folio: folio_mark_accessed (fentry,
 * kprobe), or on the tracepoints the pages a read looked up
 * (mm_filemap_get_pages: the batch's first page and the folios after it,
 * 32 lookups at most), a fault (mm_filemap_fault) and fault-around
 * (mm_filemap_map_pages). A folio is forgotten at its first use, or when
 * evicted unused (mm_filemap_delete_from_page_cache). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "folio.bpf.h"
#include "log2.bpf.h"
#include "readahead/readahead.h"

char LICENSE[] SEC("license") = "GPL";

/* 1000 for microseconds, 1000000 for milliseconds (-m). */
const volatile __u64 age_unit_ns = 1000;

struct readahead_totals totals = {};
/* -o prometheus: the sum of the used pages' ages at first access (in
 * nanoseconds, a page at a time), for the age histogram's _sum. */
const volatile bool keep_sums = false;
__u64 age_sum_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, READAHEAD_FOLIOS);
	__type(key, struct readahead_folio_key);
	__type(value, struct readahead_folio);
} folios SEC(".maps");

/* A thread reading ahead: inside the functions (depth), or in the window
 * the last readahead tracepoint announced. */
struct reader {
	__u32 depth;
	__u32 dev;
	__u64 ino;
	__u64 start;
	__u64 end; /* past the window's last page */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct reader);
} readers SEC(".maps");

static __always_inline __u32 current_tid(void) { return (__u32)bpf_get_current_pid_tgid(); }

/* The function ways: a readahead call begins and ends. */
static __always_inline void reading_ahead(void)
{
	__u32 tid = current_tid();
	struct reader fresh = {}, *r;

	if (current_filtered_out())
		return;
	r = bpf_map_lookup_elem(&readers, &tid);
	if (!r) {
		bpf_map_update_elem(&readers, &tid, &fresh, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&readers, &tid);
		if (!r)
			return;
	}
	r->depth += 1;
}

static __always_inline void read_ahead(void)
{
	__u32 tid = current_tid();
	struct reader *r = bpf_map_lookup_elem(&readers, &tid);

	if (r && r->depth)
		r->depth -= 1;
}

/* The tracepoint ways: the window a readahead call will fill. */
static __always_inline void readahead_window(struct inode *inode, __u64 index, __u64 pages)
{
	__u32 tid = current_tid();
	struct reader r = {};

	if (!inode || current_filtered_out())
		return;
	r.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	r.ino = BPF_CORE_READ(inode, i_ino);
	r.start = index;
	r.end = index + pages;
	bpf_map_update_elem(&readers, &tid, &r, BPF_ANY);
}

static __always_inline void folio_key(struct readahead_folio_key *key, struct inode *host,
				      __u64 index)
{
	key->dev = BPF_CORE_READ(host, i_sb, s_dev);
	key->ino = BPF_CORE_READ(host, i_ino);
	key->index = index;
}

/* A folio entered the page cache: read ahead when its thread reads ahead
 * into its file. */
static __always_inline void on_insert(struct folio *folio)
{
	__u32 tid = current_tid();
	struct reader *r = bpf_map_lookup_elem(&readers, &tid);
	struct readahead_folio_key key = {};
	struct readahead_folio value = {};
	struct inode *host;

	if (!r || !folio)
		return;
	host = BPF_CORE_READ(folio, mapping, host);
	if (!host)
		return;
	folio_key(&key, host, BPF_CORE_READ(folio, index));
	if (!r->depth &&
	    (r->ino != key.ino || r->dev != key.dev || key.index < r->start || key.index >= r->end))
		return;
	value.born_ns = bpf_ktime_get_ns();
	value.pages = page_cache_folio_pages(folio);
	__sync_fetch_and_add(&totals.pages, value.pages);
	if (bpf_map_update_elem(&folios, &key, &value, BPF_ANY))
		__sync_fetch_and_add(&totals.untracked, value.pages);
}

/* The folio at key was accessed: its first use when it is read ahead and
 * unused. Returns its pages (0: none such). */
static __always_inline __u32 on_access(struct readahead_folio_key *key)
{
	struct readahead_folio *f = bpf_map_lookup_elem(&folios, key);
	__u64 age, age_ns;
	__u32 pages, slot;

	if (!f)
		return 0;
	pages = f->pages;
	age_ns = bpf_ktime_get_ns() - f->born_ns;
	age = age_ns / age_unit_ns;
	if (bpf_map_delete_elem(&folios, key))
		return pages; /* another CPU counted it */
	slot = log2_u64(age);
	if (slot >= READAHEAD_SLOTS)
		slot = READAHEAD_SLOTS - 1;
	__sync_fetch_and_add(&totals.used, pages);
	__sync_fetch_and_add(&totals.age[slot], pages);
	if (keep_sums)
		__sync_fetch_and_add(&age_sum_ns, age_ns * pages);
	return pages;
}

static __always_inline void on_evict(struct folio *folio)
{
	struct readahead_folio_key key = {};
	struct readahead_folio *f;
	struct inode *host;

	if (!folio)
		return;
	host = BPF_CORE_READ(folio, mapping, host);
	if (!host)
		return;
	folio_key(&key, host, BPF_CORE_READ(folio, index));
	f = bpf_map_lookup_elem(&folios, &key);
	if (!f)
		return;
	if (!bpf_map_delete_elem(&folios, &key))
		__sync_fetch_and_add(&totals.evicted_unused, f->pages);
}

static __always_inline void on_folio_accessed(struct folio *folio)
{
	struct readahead_folio_key key = {};
	struct inode *host;

	if (!folio)
		return;
	host = BPF_CORE_READ(folio, mapping, host);
	if (!host)
		return;
	folio_key(&key, host, BPF_CORE_READ(folio, index));
	on_access(&key);
}

/* Pages first to last of a file were looked up: the folios read ahead
 * among them, 32 lookups at most from first. */
static __always_inline void on_range(struct address_space *mapping, __u64 first, __u64 last)
{
	struct readahead_folio_key key = {};
	struct inode *host;
	__u32 pages;

	if (!mapping)
		return;
	host = BPF_CORE_READ(mapping, host);
	if (!host)
		return;
	folio_key(&key, host, first);
	for (int i = 0; i < 32; i++) {
		if (key.index > last)
			break;
		pages = on_access(&key);
		key.index += pages ? pages : 1;
	}
}

/* The function ways. */

SEC("fentry/page_cache_ra_unbounded")
int BPF_PROG(fentry_ra_unbounded)
{
	reading_ahead();
	return 0;
}

SEC("fexit/page_cache_ra_unbounded")
int BPF_PROG(fexit_ra_unbounded)
{
	read_ahead();
	return 0;
}

SEC("fentry/page_cache_ra_order")
int BPF_PROG(fentry_ra_order)
{
	reading_ahead();
	return 0;
}

SEC("fexit/page_cache_ra_order")
int BPF_PROG(fexit_ra_order)
{
	read_ahead();
	return 0;
}

SEC("kprobe/page_cache_ra_unbounded")
int BPF_KPROBE(kprobe_ra_unbounded)
{
	reading_ahead();
	return 0;
}

SEC("kretprobe/page_cache_ra_unbounded")
int BPF_KRETPROBE(kretprobe_ra_unbounded)
{
	read_ahead();
	return 0;
}

SEC("kprobe/page_cache_ra_order")
int BPF_KPROBE(kprobe_ra_order)
{
	reading_ahead();
	return 0;
}

SEC("kretprobe/page_cache_ra_order")
int BPF_KRETPROBE(kretprobe_ra_order)
{
	read_ahead();
	return 0;
}

SEC("fentry/folio_mark_accessed")
int BPF_PROG(fentry_accessed, struct folio *folio)
{
	on_folio_accessed(folio);
	return 0;
}

SEC("kprobe/folio_mark_accessed")
int BPF_KPROBE(kprobe_accessed, struct folio *folio)
{
	on_folio_accessed(folio);
	return 0;
}

/* The tracepoints, typed (tp_btf) and raw, with the same arguments. */
#define READAHEAD_TRACEPOINT_PROGRAMS(kind, prefix)                                                \
	SEC(#kind "/page_cache_ra_unbounded")                                                      \
	int BPF_PROG(prefix##_ra_unbounded, struct inode *inode, unsigned long index,              \
		     unsigned long nr_to_read)                                                     \
	{                                                                                          \
		readahead_window(inode, index, nr_to_read);                                        \
		return 0;                                                                          \
	}                                                                                          \
	SEC(#kind "/page_cache_ra_order")                                                          \
	int BPF_PROG(prefix##_ra_order, struct inode *inode, unsigned long index,                  \
		     struct file_ra_state *ra)                                                     \
	{                                                                                          \
		if (ra)                                                                            \
			readahead_window(inode, index, BPF_CORE_READ(ra, size));                   \
		return 0;                                                                          \
	}                                                                                          \
	SEC(#kind "/mm_filemap_add_to_page_cache")                                                 \
	int BPF_PROG(prefix##_insert, struct folio *folio)                                         \
	{                                                                                          \
		on_insert(folio);                                                                  \
		return 0;                                                                          \
	}                                                                                          \
	SEC(#kind "/mm_filemap_delete_from_page_cache")                                            \
	int BPF_PROG(prefix##_evict, struct folio *folio)                                          \
	{                                                                                          \
		on_evict(folio);                                                                   \
		return 0;                                                                          \
	}                                                                                          \
	SEC(#kind "/mm_filemap_get_pages")                                                         \
	int BPF_PROG(prefix##_get_pages, struct address_space *mapping, unsigned long index,       \
		     unsigned long last)                                                           \
	{                                                                                          \
		on_range(mapping, index, last);                                                    \
		return 0;                                                                          \
	}                                                                                          \
	SEC(#kind "/mm_filemap_map_pages")                                                         \
	int BPF_PROG(prefix##_map_pages, struct address_space *mapping, unsigned long index,       \
		     unsigned long last)                                                           \
	{                                                                                          \
		on_range(mapping, index, last);                                                    \
		return 0;                                                                          \
	}                                                                                          \
	SEC(#kind "/mm_filemap_fault")                                                             \
	int BPF_PROG(prefix##_fault, struct address_space *mapping, unsigned long index)           \
	{                                                                                          \
		on_range(mapping, index, index);                                                   \
		return 0;                                                                          \
	}

READAHEAD_TRACEPOINT_PROGRAMS(tp_btf, btf)
READAHEAD_TRACEPOINT_PROGRAMS(raw_tp, raw)
