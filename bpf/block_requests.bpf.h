/* Block requests followed from start to completion, for the tools that
 * aggregate per request in the kernel (biotop, biostacks): the attach
 * points of every tier, one chosen by the loader for all of them so that
 * every step agrees on the key. tp_btf and raw_tp key a request by its
 * struct request's address; the tracefs tracepoints by disk and sector
 * from their records (a flush carries sector 0: two flushes in flight on
 * one disk share a key).
 *
 * A request starts at block_io_start (6.5+), in its submitter's context;
 * on kernels without it, insert or issue, whichever sees it first, stands
 * for the start. block_rq_merge forgets a request merged into another,
 * which is freed without completing.
 *
 * The including tool defines the first four before including this header,
 * and the three functions (declared here) anywhere:
 *
 *   const volatile __u32 insert_rq_arg, issue_rq_arg, merge_rq_arg;
 *       where struct request is among those tracepoints' arguments (1
 *       before 5.11, 0 since; the loader reads it from BTF)
 *   const volatile __u32 only_dev;  --disk: its dev_t, 0 for all
 *   BLOCK_REQUEST_INFO: the type of what the tool keeps per request in
 *       flight, the value of the map `requests` defined here
 *   static __always_inline void
 *   block_request_started(void *ctx, const struct block_request_key *key);
 *       the request starts: current is its submitter; replace whatever
 *       the map holds under key (a freed request's address reused)
 *   static __always_inline void
 *   block_request_issued(const struct block_request_key *key, __u32 dev, __u32 op, __u64 bytes);
 *       issued to the driver: its disk, REQ_OP_* and size
 *   static __always_inline void
 *   block_request_completed(const struct block_request_key *key);
 *       completed (in interrupt context: current is anyone); delete key
 */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "block.bpf.h"

struct block_request_key {
	__u64 id;  /* the request's address, or its sector (tracepoint tier) */
	__u32 dev; /* 0, or the disk (tracepoint tier) */
	__u32 pad;
};

/* LRU: a request that never completes in our sight (merged away on a
 * kernel without block_rq_merge, or a sector key that collides) must not
 * fill the map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct block_request_key);
	__type(value, BLOCK_REQUEST_INFO);
} requests SEC(".maps");

static __always_inline void block_request_started(void *ctx, const struct block_request_key *key);
static __always_inline void block_request_issued(const struct block_request_key *key, __u32 dev,
						 __u32 op, __u64 bytes);
static __always_inline void block_request_completed(const struct block_request_key *key);

/* Insert or issue: the start, where block_io_start did not see the request
 * first (older kernels). Kept even when the submitter is filtered out, so
 * that a later step in another task (a kworker) does not claim it. */
static __always_inline void block_request_seen(void *ctx, const struct block_request_key *key)
{
	if (!bpf_map_lookup_elem(&requests, key))
		block_request_started(ctx, key);
}

/* tp_btf and raw_tp: the request itself. */

static __always_inline void block_rq_started(void *ctx, struct request *rq, bool first_only)
{
	struct block_request_key key = { .id = (__u64)rq };

	if (only_dev && block_rq_dev(rq) != only_dev)
		return;
	if (first_only)
		block_request_seen(ctx, &key);
	else
		block_request_started(ctx, &key);
}

static __always_inline void block_rq_merged(struct request *rq)
{
	struct block_request_key key = { .id = (__u64)rq };

	bpf_map_delete_elem(&requests, &key);
}

static __always_inline void block_rq_issued(void *ctx, struct request *rq)
{
	struct block_request_key key = { .id = (__u64)rq };
	__u32 dev = block_rq_dev(rq);

	if (only_dev && dev != only_dev)
		return;
	block_request_seen(ctx, &key);
	block_request_issued(&key, dev, block_rq_op(rq), BPF_CORE_READ(rq, __data_len));
}

static __always_inline void block_rq_completed(struct request *rq)
{
	struct block_request_key key = { .id = (__u64)rq };

	block_request_completed(&key);
}

SEC("tp_btf/block_io_start")
int btf_io_start(__u64 *ctx)
{
	block_rq_started(ctx, (struct request *)ctx[0], false);
	return 0;
}

SEC("tp_btf/block_rq_merge")
int btf_merge(__u64 *ctx)
{
	block_rq_merged(rq_arg(ctx, merge_rq_arg));
	return 0;
}

SEC("tp_btf/block_rq_insert")
int btf_insert(__u64 *ctx)
{
	block_rq_started(ctx, rq_arg(ctx, insert_rq_arg), true);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int btf_issue(__u64 *ctx)
{
	block_rq_issued(ctx, rq_arg(ctx, issue_rq_arg));
	return 0;
}

SEC("tp_btf/block_rq_complete")
int btf_complete(__u64 *ctx)
{
	block_rq_completed((struct request *)ctx[0]);
	return 0;
}

SEC("raw_tp/block_io_start")
int raw_io_start(struct bpf_raw_tracepoint_args *ctx)
{
	block_rq_started(ctx, (struct request *)ctx->args[0], false);
	return 0;
}

SEC("raw_tp/block_rq_merge")
int raw_merge(struct bpf_raw_tracepoint_args *ctx)
{
	block_rq_merged(rq_arg(ctx->args, merge_rq_arg));
	return 0;
}

SEC("raw_tp/block_rq_insert")
int raw_insert(struct bpf_raw_tracepoint_args *ctx)
{
	block_rq_started(ctx, rq_arg(ctx->args, insert_rq_arg), true);
	return 0;
}

SEC("raw_tp/block_rq_issue")
int raw_issue(struct bpf_raw_tracepoint_args *ctx)
{
	block_rq_issued(ctx, rq_arg(ctx->args, issue_rq_arg));
	return 0;
}

SEC("raw_tp/block_rq_complete")
int raw_complete(struct bpf_raw_tracepoint_args *ctx)
{
	block_rq_completed((struct request *)ctx->args[0]);
	return 0;
}

/* tracepoint: the record, which carries the disk, sector, size and flags
 * (rwbs) itself. A request without data (a flush) is never counted, and is
 * left out here: a flush's completion may never be traced, and its stale
 * entry at its sector would claim the next request there (a guest run lost
 * the first of dd's reads from sector 0 so, after a sync). */

SEC("tracepoint/block/block_io_start")
int tp_io_start(struct trace_event_raw_block_rq *ctx)
{
	struct block_request_key key = { .id = ctx->sector, .dev = ctx->dev };

	if (!ctx->bytes || (only_dev && ctx->dev != only_dev))
		return 0;
	block_request_started(ctx, &key);
	return 0;
}

SEC("tracepoint/block/block_rq_merge")
int tp_merge(struct trace_event_raw_block_rq *ctx)
{
	struct block_request_key key = { .id = ctx->sector, .dev = ctx->dev };

	bpf_map_delete_elem(&requests, &key);
	return 0;
}

SEC("tracepoint/block/block_rq_insert")
int tp_insert(struct trace_event_raw_block_rq *ctx)
{
	struct block_request_key key = { .id = ctx->sector, .dev = ctx->dev };

	if (!ctx->bytes || (only_dev && ctx->dev != only_dev))
		return 0;
	block_request_seen(ctx, &key);
	return 0;
}

SEC("tracepoint/block/block_rq_issue")
int tp_issue(struct trace_event_raw_block_rq *ctx)
{
	struct block_request_key key = { .id = ctx->sector, .dev = ctx->dev };
	char rwbs[BLOCK_RWBS_LEN] = {};
	bool sync;

	if (!ctx->bytes || (only_dev && ctx->dev != only_dev))
		return 0;
	bpf_probe_read_kernel(rwbs, sizeof(rwbs), &ctx->rwbs);
	block_request_seen(ctx, &key);
	/* N (an op the letters do not name) counts as a read. */
	block_request_issued(&key, ctx->dev, block_rwbs_op(rwbs, REQ_OP_READ, &sync), ctx->bytes);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int tp_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	struct block_request_key key = { .id = ctx->sector, .dev = ctx->dev };

	block_request_completed(&key);
	return 0;
}
