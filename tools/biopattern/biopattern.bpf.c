// SPDX-License-Identifier: GPL-2.0
/* biopattern: random versus sequential block I/O per disk. At each
 * completion, a request is sequential when its first sector is the sector
 * after the last one of the disk's previous completed request, random
 * otherwise. Per disk, the end of the last request stays across intervals
 * (ends); the counts (counts) are read and cleared by the loader every
 * interval. Nothing goes to user space per request.
 *
 * Three tiers on block_rq_complete: tp_btf and raw_tp read the sector and
 * disk from the struct request and the completed bytes from the
 * tracepoint's argument; the tracefs tracepoint reads its record. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "block.bpf.h"
#include "maps.bpf.h"
#include "biopattern/biopattern.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 only_dev = 0; /* --disk: its dev_t; 0 for all */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOPATTERN_MAX_DISKS);
	__type(key, __u32);
	__type(value, __u64);
} ends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOPATTERN_MAX_DISKS);
	__type(key, __u32);
	__type(value, struct biopattern_counts);
} counts SEC(".maps");

/* bytes of a request on disk dev that started at sector completed. */
static __always_inline void complete(__u32 dev, __u64 sector, __u64 bytes)
{
	static const struct biopattern_counts zero = {};
	struct biopattern_counts *c;
	__u64 end = sector + (bytes >> 9);
	__u64 *last;

	/* A flush or other request without data has no place on the disk. */
	if (!bytes)
		return;
	if (only_dev && dev != only_dev)
		return;
	c = map_lookup_or_insert(&counts, &dev, &zero);
	if (!c)
		return;
	last = bpf_map_lookup_elem(&ends, &dev);
	if (last && *last == sector)
		__sync_fetch_and_add(&c->sequential, 1);
	else
		__sync_fetch_and_add(&c->random, 1);
	__sync_fetch_and_add(&c->bytes, bytes);
	if (last)
		*last = end;
	else
		bpf_map_update_elem(&ends, &dev, &end, BPF_ANY);
}

/* block_rq_complete(rq, error, nr_bytes): nr_bytes is what completed now
 * (a partial completion completes the rest later, from the sector after). */
static __always_inline void rq_complete(struct request *rq, __u64 nr_bytes)
{
	complete(block_rq_dev(rq), BPF_CORE_READ(rq, __sector), nr_bytes);
}

SEC("tp_btf/block_rq_complete")
int btf_complete(__u64 *ctx)
{
	rq_complete((struct request *)ctx[0], (unsigned int)ctx[2]);
	return 0;
}

SEC("raw_tp/block_rq_complete")
int raw_complete(struct bpf_raw_tracepoint_args *ctx)
{
	rq_complete((struct request *)ctx->args[0], (unsigned int)ctx->args[2]);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int tp_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	complete(ctx->dev, ctx->sector, (__u64)ctx->nr_sector << 9);
	return 0;
}
