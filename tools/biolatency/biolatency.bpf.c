// SPDX-License-Identifier: GPL-2.0
/* biolatency: block I/O latency as log2 histograms. Issue (or, with -Q,
 * insert) stamps the request's start; completion adds now - start to the
 * histogram of the request's key. Nothing goes to user space per request:
 * the loader reads and clears the histograms every interval.
 *
 * Three tiers, one chosen by the loader for all three tracepoints so that
 * start and completion agree on the key: tp_btf and raw_tp see the struct
 * request and key starts by its address; the tracefs tracepoints see only
 * the record, and key starts by disk and sector. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "block.bpf.h"
#include "filters.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "biolatency/biolatency.h"

char LICENSE[] SEC("license") = "GPL";

/* Where struct request is among the tracepoint's arguments: 1 before 5.11,
 * when block_rq_insert and block_rq_issue still passed the request_queue
 * first; 0 since. The loader reads it from the kernel's BTF. */
const volatile __u32 insert_rq_arg = 0;
const volatile __u32 issue_rq_arg = 0;

const volatile bool queued = false;   /* -Q: the start is the insert */
const volatile bool per_disk = false; /* -D */
const volatile bool per_op = false;   /* -F */
const volatile __u32 only_dev = 0;    /* --disk: its dev_t; 0 for all */
const volatile __u64 unit_ns = 1000;  /* 1000 for usecs, 1000000 for msecs (-m) */

struct start_key {
	__u64 id;  /* the request's address, or its sector (tracepoint tier) */
	__u32 dev; /* 0, or the disk (tracepoint tier) */
	__u32 pad;
};

struct start {
	__u64 ts_ns;
	struct biolatency_key key; /* the histogram this request goes to */
};

/* LRU: a request that never completes in our sight (merged away after
 * insert, or in flight when a sector key collides) must not fill the map.
 * Where neither can happen the loader makes it a plain hash, which costs
 * less per request. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct start_key);
	__type(value, struct start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOLATENCY_MAX_KEYS);
	__type(key, struct biolatency_key);
	__type(value, struct biolatency_hist);
} hists SEC(".maps");

/* corescope export: the sum of each histogram's latencies in ns, for a
 * Prometheus histogram's _sum (keep_sums; the loader sizes the map then). */
const volatile bool keep_sums = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct biolatency_key);
	__type(value, __u64);
} sums SEC(".maps");

/* Too large for the stack: the initial value of a new histogram. */
static const struct biolatency_hist empty_hist;

/* Stamps the start of a request on disk dev. A request issued straight to
 * the driver never passes insert, so under -Q the issue stamps only what
 * insert did not. */
static __always_inline void stamp(const struct start_key *skey, __u32 dev, __u32 op, bool sync,
				  bool at_insert)
{
	struct start start = {};

	if (only_dev && dev != only_dev)
		return;
	/* -c: the task that inserts or issues the request. For direct and
	 * synchronous I/O that is the submitter; writeback is a kworker's. */
	if (filter_by_cgroup && bpf_current_task_under_cgroup(&filter_cgroup, 0) != 1)
		return;
	start.ts_ns = bpf_ktime_get_ns();
	if (per_disk)
		start.key.dev = dev;
	if (per_op) {
		start.key.op = op;
		start.key.sync = sync;
	}
	bpf_map_update_elem(&starts, skey, &start, queued && !at_insert ? BPF_NOEXIST : BPF_ANY);
}

static __always_inline void complete(const struct start_key *skey)
{
	struct biolatency_hist *hist;
	struct start *start;
	__u64 delta;

	start = bpf_map_lookup_elem(&starts, skey);
	if (!start)
		return;
	delta = bpf_ktime_get_ns() - start->ts_ns;
	if ((__s64)delta >= 0) {
		hist = map_lookup_or_insert(&hists, &start->key, &empty_hist);
		if (hist)
			log2_hist_add(hist->slots, BIOLATENCY_SLOTS, delta / unit_ns);
		if (keep_sums) {
			static const __u64 zero = 0;
			__u64 *sum = map_lookup_or_insert(&sums, &start->key, &zero);

			if (sum)
				__sync_fetch_and_add(sum, delta);
		}
	}
	bpf_map_delete_elem(&starts, skey);
}

/* tp_btf and raw_tp: the request itself. */

static __always_inline void rq_start(struct request *rq, bool at_insert)
{
	struct start_key skey = { .id = (__u64)rq };
	__u32 dev = per_disk || only_dev ? block_rq_dev(rq) : 0;

	if (per_op)
		stamp(&skey, dev, block_rq_op(rq), block_rq_sync(rq), at_insert);
	else
		stamp(&skey, dev, 0, false, at_insert);
}

static __always_inline void rq_complete(struct request *rq)
{
	struct start_key skey = { .id = (__u64)rq };

	complete(&skey);
}

SEC("tp_btf/block_rq_insert")
int btf_insert(__u64 *ctx)
{
	rq_start(rq_arg(ctx, insert_rq_arg), true);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int btf_issue(__u64 *ctx)
{
	rq_start(rq_arg(ctx, issue_rq_arg), false);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int btf_complete(__u64 *ctx)
{
	rq_complete((struct request *)ctx[0]);
	return 0;
}

SEC("raw_tp/block_rq_insert")
int raw_insert(struct bpf_raw_tracepoint_args *ctx)
{
	rq_start(rq_arg(ctx->args, insert_rq_arg), true);
	return 0;
}

SEC("raw_tp/block_rq_issue")
int raw_issue(struct bpf_raw_tracepoint_args *ctx)
{
	rq_start(rq_arg(ctx->args, issue_rq_arg), false);
	return 0;
}

SEC("raw_tp/block_rq_complete")
int raw_complete(struct bpf_raw_tracepoint_args *ctx)
{
	rq_complete((struct request *)ctx->args[0]);
	return 0;
}

/* tracepoint: the record. Flushes carry sector 0, so two flushes in flight
 * on one disk share a key; the later start wins. */

static __always_inline void record_start(struct trace_event_raw_block_rq *ctx, bool at_insert)
{
	struct start_key skey = { .id = ctx->sector, .dev = ctx->dev };
	char rwbs[BLOCK_RWBS_LEN] = {};
	bool sync = false;
	__u32 op = 0;

	if (per_op) {
		bpf_core_read(&rwbs, sizeof(rwbs), &ctx->rwbs);
		op = block_rwbs_op(rwbs, BIOLATENCY_OP_UNKNOWN, &sync);
	}
	stamp(&skey, ctx->dev, op, sync, at_insert);
}

SEC("tracepoint/block/block_rq_insert")
int tp_insert(struct trace_event_raw_block_rq *ctx)
{
	record_start(ctx, true);
	return 0;
}

SEC("tracepoint/block/block_rq_issue")
int tp_issue(struct trace_event_raw_block_rq *ctx)
{
	record_start(ctx, false);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int tp_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	struct start_key skey = { .id = ctx->sector, .dev = ctx->dev };

	complete(&skey);
	return 0;
}
