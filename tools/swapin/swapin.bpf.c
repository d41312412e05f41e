// SPDX-License-Identifier: GPL-2.0
/* swapin: pages read in from swap, by the process whose thread read them
 * (the one that faulted on a swapped-out page, and its swap readahead).
 *
 * Where the kernel can trace its functions, swap_readpage() (before 6.9;
 * swap_read_folio() since) runs once per folio read in from swap, zswap's
 * included. Elsewhere, block:block_bio_queue: a read bio whose first page
 * is in the swap cache is a swap-in read from a swap device or swap file;
 * zswap hits and pages swapped out as all zeros (6.12+) make no I/O and are
 * not seen there. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "swapin/swapin.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 page_shift = 12; /* set by the loader */

__u64 dropped = 0; /* swap-ins not counted: the table was full */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SWAPIN_PROCESSES);
	__type(key, struct swapin_key);
	__type(value, struct swapin_value);
} counts SEC(".maps");

static __always_inline int count_swapin(__u64 pages)
{
	struct swapin_key key = {};
	struct swapin_value *v, zero = {};

	if (current_filtered_out())
		return 0;
	key.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	v = bpf_map_lookup_elem(&counts, &key);
	if (!v) {
		bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&counts, &key);
		if (!v) {
			__sync_fetch_and_add(&dropped, 1);
			return 0;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->pages, pages);
	return 0;
}

/* struct page's flags: an unsigned long before 6.17, since then wrapped in
 * a struct (memdesc_flags_t); CO-RE matches each flavor only where its type
 * fits. */
struct page___flags_long {
	unsigned long flags;
} __attribute__((preserve_access_index));
struct page___flags_struct {
	struct {
		unsigned long f;
	} flags;
} __attribute__((preserve_access_index));

static __always_inline int page_flags(struct page *page, unsigned long *flags)
{
	if (bpf_core_field_exists(struct page___flags_long, flags))
		return bpf_core_read(flags, sizeof(*flags),
				     &((struct page___flags_long *)page)->flags);
	return bpf_core_read(flags, sizeof(*flags), &((struct page___flags_struct *)page)->flags.f);
}

/* Is this bio a read whose first page is in the swap cache? */
static __always_inline bool swap_read(struct bio *bio)
{
	unsigned int opf = BPF_CORE_READ(bio, bi_opf);
	struct page *page = BPF_CORE_READ(bio, bi_io_vec, bv_page);
	int swapcache = bpf_core_enum_value(enum pageflags, PG_swapcache);
	int swapbacked = bpf_core_enum_value(enum pageflags, PG_swapbacked);
	unsigned long flags = 0;

	/* REQ_OP_BITS is 8 on every kernel with REQ_OP_READ in an enum. */
	if ((opf & 0xff) != bpf_core_enum_value(enum req_op, REQ_OP_READ) || !page)
		return false;
	if (page_flags(page, &flags))
		return false;
	return (flags >> swapcache & 1) && (flags >> swapbacked & 1);
}

static __always_inline int on_bio(struct bio *bio)
{
	if (!swap_read(bio))
		return 0;
	return count_swapin(BPF_CORE_READ(bio, bi_iter.bi_size) >> page_shift);
}

/* Tier 1: the kernel's own function (6.1: one page per call). */

SEC("fentry/swap_readpage")
int BPF_PROG(fentry_swap_readpage) { return count_swapin(1); }

SEC("kprobe/swap_readpage")
int kprobe_swap_readpage(struct pt_regs *ctx) { return count_swapin(1); }

/* Tier 2: block I/O. */

SEC("tp_btf/block_bio_queue")
int BPF_PROG(btf_bio_queue, struct bio *bio) { return on_bio(bio); }

SEC("raw_tp/block_bio_queue")
int BPF_PROG(raw_bio_queue, struct bio *bio) { return on_bio(bio); }
