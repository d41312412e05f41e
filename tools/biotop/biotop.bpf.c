// SPDX-License-Identifier: GPL-2.0
/* biotop: block I/O per process, disk and direction, counted in a hash map
 * that user space empties every interval; nothing goes to user space per
 * request.
 *
 * The first of io_start (6.5+), insert and issue to see a request records
 * its submitter (current there; completion runs in interrupt context);
 * issue stamps the start of the device's latency, the disk, direction and
 * size; completion adds one request, its bytes and its latency to the
 * submitter's entry. Requests without data (flushes) are not counted.
 *
 * Three tiers, one chosen by the loader for all the tracepoints so that
 * every step agrees on the key: tp_btf and raw_tp key requests by the
 * struct request's address; the tracefs tracepoints by disk and sector. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "block.bpf.h"
#include "filters.bpf.h"
#include "maps.bpf.h"
#include "biotop/biotop.h"

char LICENSE[] SEC("license") = "GPL";

/* Where struct request is among the tracepoint's arguments: 1 before 5.11
 * (the request_queue came first), 0 since. The loader reads it from BTF. */
const volatile __u32 insert_rq_arg = 0;
const volatile __u32 issue_rq_arg = 0;
const volatile __u32 merge_rq_arg = 0;

const volatile __u32 only_dev = 0; /* --disk: its dev_t; 0 for all */

/* Requests the table of totals had no room for. */
__u64 requests_dropped = 0;

struct request_key {
	__u64 id;  /* the request's address, or its sector (tracepoint tier) */
	__u32 dev; /* 0, or the disk (tracepoint tier) */
	__u32 pad;
};

struct request_info {
	__u64 issue_ns; /* 0 until issued */
	__u64 bytes;
	struct biotop_key key; /* the submitter's entry, disk and direction from issue */
	bool wanted;	       /* the submitter passed -p, -t, -u, -c */
	__u8 pad[7];
};

/* LRU: a request that never completes in our sight (merged away on a
 * kernel without block_rq_merge, or a sector key that collides) must not
 * fill the map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct request_key);
	__type(value, struct request_info);
} requests SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOTOP_MAX_KEYS);
	__type(key, struct biotop_key);
	__type(value, struct biotop_value);
} totals SEC(".maps");

/* A request starts (block_io_start): its submitter is current. Whatever
 * the table holds under its key is stale (a freed request's struct reused). */
static __always_inline struct request_info *request_started(const struct request_key *key)
{
	struct request_info fresh = {};

	fresh.key.pid = bpf_get_current_pid_tgid() >> 32;
	fresh.wanted = !current_filtered_out();
	bpf_get_current_comm(fresh.key.comm, sizeof(fresh.key.comm));
	bpf_map_update_elem(&requests, key, &fresh, BPF_ANY);
	return bpf_map_lookup_elem(&requests, key);
}

/* Insert or issue: the request as first seen, where block_io_start did not
 * see it first (older kernels); kept even when filtered out, so that a
 * later step in another task does not claim it. */
static __always_inline struct request_info *request_seen(const struct request_key *key)
{
	struct request_info *info = bpf_map_lookup_elem(&requests, key);

	if (info)
		return info;
	return request_started(key);
}

static __always_inline void request_issued(const struct request_key *key, __u32 dev, __u32 op,
					   __u64 bytes)
{
	struct request_info *info;

	if (only_dev && dev != only_dev)
		return;
	info = request_seen(key);
	if (!info)
		return;
	info->issue_ns = bpf_ktime_get_ns();
	info->bytes = bytes;
	info->key.dev = dev;
	info->key.write = op & 1; /* op_is_write(): the write-type ops are odd */
}

static __always_inline void request_complete(const struct request_key *key)
{
	struct request_info *info = bpf_map_lookup_elem(&requests, key);
	struct biotop_value *value;
	static const struct biotop_value zero;
	__u64 now;

	if (!info)
		return;
	now = bpf_ktime_get_ns();
	/* Issued before we attached, filtered out, or without data. */
	if (!info->issue_ns || !info->wanted || !info->bytes || now < info->issue_ns)
		goto done;
	value = map_lookup_or_insert(&totals, &info->key, &zero);
	if (!value) {
		__sync_fetch_and_add(&requests_dropped, 1);
		goto done;
	}
	__sync_fetch_and_add(&value->io, 1);
	__sync_fetch_and_add(&value->bytes, info->bytes);
	__sync_fetch_and_add(&value->total_ns, now - info->issue_ns);
done:
	bpf_map_delete_elem(&requests, key);
}

/* tp_btf and raw_tp: the request itself. */

static __always_inline void rq_start(struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };

	if (only_dev && block_rq_dev(rq) != only_dev)
		return;
	request_started(&key);
}

static __always_inline void rq_merged(struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };

	bpf_map_delete_elem(&requests, &key);
}

static __always_inline void rq_insert(struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };

	if (only_dev && block_rq_dev(rq) != only_dev)
		return;
	request_seen(&key);
}

static __always_inline void rq_issue(struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };

	request_issued(&key, block_rq_dev(rq), block_rq_op(rq), BPF_CORE_READ(rq, __data_len));
}

static __always_inline void rq_complete(struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };

	request_complete(&key);
}

SEC("tp_btf/block_io_start")
int btf_io_start(__u64 *ctx)
{
	rq_start((struct request *)ctx[0]);
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
	rq_insert(rq_arg(ctx, insert_rq_arg));
	return 0;
}

SEC("tp_btf/block_rq_issue")
int btf_issue(__u64 *ctx)
{
	rq_issue(rq_arg(ctx, issue_rq_arg));
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
	rq_start((struct request *)ctx->args[0]);
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
	rq_insert(rq_arg(ctx->args, insert_rq_arg));
	return 0;
}

SEC("raw_tp/block_rq_issue")
int raw_issue(struct bpf_raw_tracepoint_args *ctx)
{
	rq_issue(rq_arg(ctx->args, issue_rq_arg));
	return 0;
}

SEC("raw_tp/block_rq_complete")
int raw_complete(struct bpf_raw_tracepoint_args *ctx)
{
	rq_complete((struct request *)ctx->args[0]);
	return 0;
}

/* tracepoint: the record, which carries the disk, sector, size and flags
 * (rwbs). Flushes carry sector 0; they have no data and are not counted. */

SEC("tracepoint/block/block_io_start")
int tp_io_start(struct trace_event_raw_block_rq *ctx)
{
	struct request_key key = { .id = ctx->sector, .dev = ctx->dev };

	if (only_dev && ctx->dev != only_dev)
		return 0;
	request_started(&key);
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
	request_seen(&key);
	return 0;
}

SEC("tracepoint/block/block_rq_issue")
int tp_issue(struct trace_event_raw_block_rq *ctx)
{
	struct request_key key = { .id = ctx->sector, .dev = ctx->dev };
	char rwbs[BLOCK_RWBS_LEN] = {};
	bool sync;

	bpf_probe_read_kernel(rwbs, sizeof(rwbs), &ctx->rwbs);
	request_issued(&key, ctx->dev, block_rwbs_op(rwbs, REQ_OP_DRV_IN, &sync), ctx->bytes);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int tp_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	struct request_key key = { .id = ctx->sector, .dev = ctx->dev };

	request_complete(&key);
	return 0;
}
