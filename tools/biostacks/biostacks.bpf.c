// SPDX-License-Identifier: GPL-2.0
/* biostacks: block I/O latency by the kernel stack that started the
 * request, with the submitting process and the disk. The first of io_start
 * (6.5+), insert and issue to see a request takes the kernel stack there
 * (current is the submitter there; completion runs in interrupt context),
 * the process and the time; issue adds the disk; completion adds the time
 * from start to completion to the entry of that stack, process and disk:
 * a count, a sum and a log2 histogram. Nothing goes to user space per
 * request: the loader reads the map once, at the end. Requests without
 * data (flushes) are not counted.
 *
 * Three tiers, one chosen by the loader for all the tracepoints so that
 * every step agrees on the key: tp_btf and raw_tp key requests by the
 * struct request's address; the tracefs tracepoints by disk and sector. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "block.bpf.h"
#include "filters.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "stacks.bpf.h"
#include "biostacks/biostacks.h"

char LICENSE[] SEC("license") = "GPL";

/* Where struct request is among the tracepoint's arguments: 1 before 5.11
 * (the request_queue came first), 0 since. The loader reads it from BTF. */
const volatile __u32 insert_rq_arg = 0;
const volatile __u32 issue_rq_arg = 0;
const volatile __u32 merge_rq_arg = 0;

const volatile __u32 only_dev = 0; /* --disk: its dev_t; 0 for all */
const volatile __u64 unit_ns =
	1000; /* the histogram's unit: 1000 for usecs, 1000000 for msecs (-m) */

/* Requests the table of totals had no room for. */
__u64 requests_dropped = 0;

struct request_key {
	__u64 id;  /* the request's address, or its sector (tracepoint tier) */
	__u32 dev; /* 0, or the disk (tracepoint tier) */
	__u32 pad;
};

struct request_info {
	__u64 start_ns;
	__u64 bytes;		  /* 0 until issued */
	struct biostacks_key key; /* the submitter and its stack; the disk from issue */
	bool wanted;		  /* the submitter passed -p, -t, -u, -c */
	__u8 pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct request_key);
	__type(value, struct request_info);
} requests SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTACKS_MAX_KEYS);
	__type(key, struct biostacks_key);
	__type(value, struct biostacks_value);
} totals SEC(".maps");

/* Too large for the stack: the initial value of a new entry. */
static const struct biostacks_value empty_value;

/* A request starts: its submitter is current, and so is the stack. */
static __always_inline void request_started(void *ctx, const struct request_key *key)
{
	struct request_info fresh = {};

	fresh.wanted = !current_filtered_out();
	fresh.start_ns = bpf_ktime_get_ns();
	fresh.key.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(fresh.key.comm, sizeof(fresh.key.comm));
	fresh.key.kernel_stack_id = fresh.wanted ? stack_id_of(ctx, 0) : STACK_ID_NONE;
	bpf_map_update_elem(&requests, key, &fresh, BPF_ANY);
}

/* Insert or issue: the start, where block_io_start did not see it first
 * (older kernels); kept even when filtered out, so that a later step in
 * another task does not claim it. */
static __always_inline void request_seen(void *ctx, const struct request_key *key)
{
	if (!bpf_map_lookup_elem(&requests, key))
		request_started(ctx, key);
}

static __always_inline void request_issued(void *ctx, const struct request_key *key, __u32 dev,
					   __u64 bytes)
{
	struct request_info *info;

	if (only_dev && dev != only_dev)
		return;
	request_seen(ctx, key);
	info = bpf_map_lookup_elem(&requests, key);
	if (!info)
		return;
	info->bytes = bytes;
	info->key.dev = dev;
}

static __always_inline void request_complete(const struct request_key *key)
{
	struct request_info *info = bpf_map_lookup_elem(&requests, key);
	struct biostacks_value *value;
	__u64 delta;

	if (!info)
		return;
	delta = bpf_ktime_get_ns() - info->start_ns;
	/* Not issued in our sight, filtered out, or without data. */
	if (!info->bytes || !info->wanted || (__s64)delta < 0)
		goto done;
	value = map_lookup_or_insert(&totals, &info->key, &empty_value);
	if (!value) {
		__sync_fetch_and_add(&requests_dropped, 1);
		goto done;
	}
	__sync_fetch_and_add(&value->count, 1);
	__sync_fetch_and_add(&value->total_ns, delta);
	log2_hist_add(value->slots, BIOSTACKS_SLOTS, delta / unit_ns);
done:
	bpf_map_delete_elem(&requests, key);
}

/* tp_btf and raw_tp: the request itself. */

static __always_inline void rq_start(void *ctx, struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };

	if (only_dev && block_rq_dev(rq) != only_dev)
		return;
	request_started(ctx, &key);
}

static __always_inline void rq_merged(struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };

	bpf_map_delete_elem(&requests, &key);
}

static __always_inline void rq_insert(void *ctx, struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };

	if (only_dev && block_rq_dev(rq) != only_dev)
		return;
	request_seen(ctx, &key);
}

static __always_inline void rq_issue(void *ctx, struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };

	request_issued(ctx, &key, block_rq_dev(rq), BPF_CORE_READ(rq, __data_len));
}

static __always_inline void rq_complete(struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };

	request_complete(&key);
}

SEC("tp_btf/block_io_start")
int btf_io_start(__u64 *ctx)
{
	rq_start(ctx, (struct request *)ctx[0]);
	return 0;
}

SEC("tp_btf/block_rq_merge")
int btf_merge(__u64 *ctx)
{
	rq_merged(rq_arg(ctx, merge_rq_arg));
	return 0;
}

SEC("tp_btf/block_rq_insert")
int btf_insert(__u64 *ctx)
{
	rq_insert(ctx, rq_arg(ctx, insert_rq_arg));
	return 0;
}

SEC("tp_btf/block_rq_issue")
int btf_issue(__u64 *ctx)
{
	rq_issue(ctx, rq_arg(ctx, issue_rq_arg));
	return 0;
}

SEC("tp_btf/block_rq_complete")
int btf_complete(__u64 *ctx)
{
	rq_complete((struct request *)ctx[0]);
	return 0;
}

SEC("raw_tp/block_io_start")
int raw_io_start(struct bpf_raw_tracepoint_args *ctx)
{
	rq_start(ctx, (struct request *)ctx->args[0]);
	return 0;
}

SEC("raw_tp/block_rq_merge")
int raw_merge(struct bpf_raw_tracepoint_args *ctx)
{
	rq_merged(rq_arg(ctx->args, merge_rq_arg));
	return 0;
}

SEC("raw_tp/block_rq_insert")
int raw_insert(struct bpf_raw_tracepoint_args *ctx)
{
	rq_insert(ctx, rq_arg(ctx->args, insert_rq_arg));
	return 0;
}

SEC("raw_tp/block_rq_issue")
int raw_issue(struct bpf_raw_tracepoint_args *ctx)
{
	rq_issue(ctx, rq_arg(ctx->args, issue_rq_arg));
	return 0;
}

SEC("raw_tp/block_rq_complete")
int raw_complete(struct bpf_raw_tracepoint_args *ctx)
{
	rq_complete((struct request *)ctx->args[0]);
	return 0;
}

/* tracepoint: the record. */

SEC("tracepoint/block/block_io_start")
int tp_io_start(struct trace_event_raw_block_rq *ctx)
{
	struct request_key key = { .id = ctx->sector, .dev = ctx->dev };

	if (only_dev && ctx->dev != only_dev)
		return 0;
	request_started(ctx, &key);
	return 0;
}

SEC("tracepoint/block/block_rq_merge")
int tp_merge(struct trace_event_raw_block_rq *ctx)
{
	struct request_key key = { .id = ctx->sector, .dev = ctx->dev };

	bpf_map_delete_elem(&requests, &key);
	return 0;
}

SEC("tracepoint/block/block_rq_insert")
int tp_insert(struct trace_event_raw_block_rq *ctx)
{
	struct request_key key = { .id = ctx->sector, .dev = ctx->dev };

	if (only_dev && ctx->dev != only_dev)
		return 0;
	request_seen(ctx, &key);
	return 0;
}

SEC("tracepoint/block/block_rq_issue")
int tp_issue(struct trace_event_raw_block_rq *ctx)
{
	struct request_key key = { .id = ctx->sector, .dev = ctx->dev };

	request_issued(ctx, &key, ctx->dev, ctx->bytes);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int tp_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	struct request_key key = { .id = ctx->sector, .dev = ctx->dev };

	request_complete(&key);
	return 0;
}
