// SPDX-License-Identifier: GPL-2.0
/* biosnoop: one event per block request, sent at its completion. The first
 * of io_start, insert and issue records who submitted the request (the
 * current task there is the submitter; completion runs in interrupt
 * context). block_io_start (6.5+) always runs in the submitter's context;
 * insert and issue may not (a kworker running the queue), and on kernels
 * without block_io_start a request first seen there is that task's; issue
 * stamps the start of the device's latency and what the request is (disk,
 * sector, size, flags); completion sends all of it.
 *
 * Three tiers, one chosen by the loader for all the tracepoints so that
 * every step agrees on the key: tp_btf and raw_tp see the struct request and
 * key requests by its address; the tracefs tracepoints see only the record,
 * and key requests by disk and sector. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "block.bpf.h"
#include "events.bpf.h"
#include "filters.bpf.h"
#include "biosnoop/biosnoop.h"

char LICENSE[] SEC("license") = "GPL";

/* Where struct request is among the tracepoint's arguments: 1 before 5.11
 * (the request_queue came first), 0 since. The loader reads it from BTF. */
const volatile __u32 insert_rq_arg = 0;
const volatile __u32 issue_rq_arg = 0;
const volatile __u32 merge_rq_arg = 0;

const volatile __u32 only_dev = 0;   /* --disk: its dev_t; 0 for all */
const volatile __u64 min_lat_ns = 0; /* --min */

struct request_key {
	__u64 id;  /* the request's address, or its sector (tracepoint tier) */
	__u32 dev; /* 0, or the disk (tracepoint tier) */
	__u32 pad;
};

struct request_info {
	__u64 insert_ns; /* 0 until inserted */
	__u64 issue_ns;	 /* 0 until issued */
	__u64 sector;
	__u32 bytes;
	__u32 dev;
	__u32 pid;
	__u32 tid;
	char comm[BIOSNOOP_COMM_LEN];
	char rwbs[BIOSNOOP_RWBS_LEN];
	bool wanted; /* the submitter passed -p, -t, -u, -c */
	__u8 pad[5];
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

/* A request starts (block_io_start): its submitter is current, judged by
 * the filters now. Whatever the table holds under its key is stale: a
 * request whose struct the kernel freed without completing it, and now
 * reuses for this one. If we saw that one issued, its completion never
 * reached us: a loaded run lost 1 in 1000 so, and bpftrace on the same
 * tracepoint missed the same requests. It counts as a lost event. */
static __always_inline struct request_info *request_started(const struct request_key *key)
{
	struct request_info fresh = {};
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct request_info *stale = bpf_map_lookup_elem(&requests, key);

	if (stale && stale->issue_ns && stale->wanted)
		events_count_lost();

	fresh.pid = pid_tgid >> 32;
	fresh.tid = (__u32)pid_tgid;
	fresh.wanted = !current_filtered_out();
	bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
	bpf_map_update_elem(&requests, key, &fresh, BPF_ANY);
	return bpf_map_lookup_elem(&requests, key);
}

/* Insert or issue: the request as first seen, where block_io_start did not
 * see it first (older kernels). Kept even when filtered out, so that a
 * later step running in another task (a flush of the queue by the next
 * submitter, a kworker) does not claim it. */
static __always_inline struct request_info *request_seen(const struct request_key *key)
{
	struct request_info *info = bpf_map_lookup_elem(&requests, key);

	if (info)
		return info;
	return request_started(key);
}

static __always_inline void request_complete(void *ctx, const struct request_key *key)
{
	struct request_info *info = bpf_map_lookup_elem(&requests, key);
	struct biosnoop_event e = {};
	__u64 now;

	if (!info)
		return;
	now = bpf_ktime_get_ns();
	/* Issued before we attached, or not for us. */
	if (!info->issue_ns || !info->wanted || now - info->issue_ns < min_lat_ns)
		goto done;
	e.ts_ns = now;
	e.lat_ns = now - info->issue_ns;
	e.queue_ns = info->insert_ns && info->insert_ns <= info->issue_ns
			     ? info->issue_ns - info->insert_ns
			     : 0;
	e.sector = info->sector;
	e.bytes = info->bytes;
	e.dev = info->dev;
	e.pid = info->pid;
	e.tid = info->tid;
	__builtin_memcpy(e.comm, info->comm, sizeof(e.comm));
	__builtin_memcpy(e.rwbs, info->rwbs, sizeof(e.rwbs));
	events_output(ctx, &e, sizeof(e));
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

/* Merged into another request: it is freed without a completion. */
static __always_inline void rq_merged(struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };

	bpf_map_delete_elem(&requests, &key);
}

static __always_inline void rq_insert(struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };
	struct request_info *info;

	if (only_dev && block_rq_dev(rq) != only_dev)
		return;
	info = request_seen(&key);
	if (info)
		info->insert_ns = bpf_ktime_get_ns();
}

static __always_inline void rq_issue(struct request *rq)
{
	struct request_key key = { .id = (__u64)rq };
	struct request_info *info;
	__u32 dev = block_rq_dev(rq);

	if (only_dev && dev != only_dev)
		return;
	info = request_seen(&key);
	if (!info)
		return;
	info->issue_ns = bpf_ktime_get_ns();
	info->dev = dev;
	info->sector = block_rq_sector(rq);
	info->bytes = BPF_CORE_READ(rq, __data_len);
	block_rq_rwbs(rq, info->rwbs);
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
	struct request_key key = { .id = ctx[0] };

	request_complete(ctx, &key);
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
	struct request_key key = { .id = ctx->args[0] };

	request_complete(ctx, &key);
	return 0;
}

/* tracepoint: the record, which carries the request's disk, sector, size
 * and flags (rwbs) itself. Flushes carry sector 0, so two flushes in flight
 * on one disk share a key; the later one wins. */

static __always_inline void record_rwbs(struct trace_event_raw_block_rq *ctx, char *rwbs)
{
	/* 8 bytes before 6.11, 10 since. */
	__u32 size = bpf_core_field_size(ctx->rwbs);

	if (size > BIOSNOOP_RWBS_LEN)
		size = BIOSNOOP_RWBS_LEN;
	bpf_probe_read_kernel(rwbs, size, &ctx->rwbs);
	rwbs[BIOSNOOP_RWBS_LEN - 1] = '\0';
}

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
	struct request_info *info;

	if (only_dev && ctx->dev != only_dev)
		return 0;
	info = request_seen(&key);
	if (info)
		info->insert_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tracepoint/block/block_rq_issue")
int tp_issue(struct trace_event_raw_block_rq *ctx)
{
	struct request_key key = { .id = ctx->sector, .dev = ctx->dev };
	struct request_info *info;

	if (only_dev && ctx->dev != only_dev)
		return 0;
	info = request_seen(&key);
	if (!info)
		return 0;
	info->issue_ns = bpf_ktime_get_ns();
	info->dev = ctx->dev;
	info->sector = ctx->sector;
	info->bytes = ctx->bytes;
	record_rwbs(ctx, info->rwbs);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int tp_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	struct request_key key = { .id = ctx->sector, .dev = ctx->dev };

	request_complete(ctx, &key);
	return 0;
}
