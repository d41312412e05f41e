// SPDX-License-Identifier: GPL-2.0
/* bitesize: the sizes of block requests as log2 histograms (KiB) per task
 * name, taken when the request is issued to the driver. The task is the one
 * that issues it: for direct and synchronous I/O the submitter, for
 * writeback and readahead done by a worker that worker, for a request the
 * block layer dispatches later its kblockd worker. Nothing goes to user
 * space per request: the loader reads and clears the map every interval.
 *
 * Three tiers on block_rq_issue: tp_btf and raw_tp read the size from the
 * struct request (tp_btf directly, raw_tp through a probe read); the
 * tracefs tracepoint from its record. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "block.bpf.h"
#include "filters.bpf.h"
#include "hist_sums.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "bitesize/bitesize.h"

char LICENSE[] SEC("license") = "GPL";

/* Where struct request is among block_rq_issue's arguments: 1 before 5.11
 * (q, rq), 0 since. The loader reads it from the kernel's BTF. */
const volatile __u32 issue_rq_arg = 0;

const volatile bool per_process = false; /* -P */
const volatile __u32 only_dev = 0;	 /* --disk: its dev_t; 0 for all */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BITESIZE_MAX_KEYS);
	__type(key, struct bitesize_key);
	__type(value, struct bitesize_hist);
} hists SEC(".maps");

HIST_SUMS(struct bitesize_key)

/* Too large for the stack: the initial value of a new histogram. */
static const struct bitesize_hist empty_hist;

static __always_inline void count(__u32 dev, __u32 bytes)
{
	struct bitesize_key key = {};
	struct bitesize_hist *hist;

	/* A flush or other request without data has no size to show. */
	if (!bytes)
		return;
	if (only_dev && dev != only_dev)
		return;
	if (current_filtered_out())
		return;
	if (per_process)
		key.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	hist = map_lookup_or_insert(&hists, &key, &empty_hist);
	if (hist) {
		log2_hist_add(hist->slots, BITESIZE_SLOTS, bytes / 1024);
		hist_sum_add(&key, bytes);
	}
}

static __always_inline void rq_issue(struct request *rq)
{
	count(only_dev ? block_rq_dev(rq) : 0, BPF_CORE_READ(rq, __data_len));
}

SEC("tp_btf/block_rq_issue")
int btf_issue(__u64 *ctx)
{
	struct request *rq;

	if (issue_rq_arg) { /* before 5.11: the second argument, probe read */
		rq_issue(rq_arg(ctx, issue_rq_arg));
		return 0;
	}
	/* A typed pointer: the size is a direct load, no probe read (the
	 * program runs for every request issued on the host). */
	rq = (struct request *)ctx[0];
	count(only_dev ? block_rq_dev(rq) : 0, rq->__data_len);
	return 0;
}

SEC("raw_tp/block_rq_issue")
int raw_issue(struct bpf_raw_tracepoint_args *ctx)
{
	rq_issue(rq_arg(ctx->args, issue_rq_arg));
	return 0;
}

SEC("tracepoint/block/block_rq_issue")
int tp_issue(struct trace_event_raw_block_rq *ctx)
{
	count(ctx->dev, ctx->bytes);
	return 0;
}
