// SPDX-License-Identifier: GPL-2.0
/* wqlat: how long work items wait on a workqueue, from queue_work to the
 * start of their execution, as log2 histograms per workqueue; or (-E) how
 * long each work function runs, per function.
 *
 * A work item is queued once until it starts (queueing a pending one does
 * nothing and is not traced), so its address keys its stamp. Work that is
 * cancelled before it runs leaves a stamp behind: the stamps are an LRU map,
 * so those age out. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hist_sums.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "wqlat/wqlat.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_workqueue = false;    /* -W */
const volatile bool filter_workqueue = false; /* -w */
const volatile char wanted_workqueue[WQLAT_NAME_LEN] = {};
const volatile __u64 unit_ns = 1000; /* histogram unit: 1 ns, 1 us or 1 ms */

struct queued {
	__u64 ts_ns;
	char name[WQLAT_NAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* the work_struct's address */
	__type(value, struct queued);
} queued_work SEC(".maps");

struct running {
	__u64 ts_ns;
	__u64 function;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* the worker's thread ID: one work at a time */
	__type(value, struct running);
} running_work SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WQLAT_MAX_KEYS);
	__type(key, struct wqlat_key);
	__type(value, struct wqlat_hist);
} hists SEC(".maps");

static __always_inline bool workqueue_wanted(const char *name)
{
	if (!filter_workqueue)
		return true;
	for (int i = 0; i < WQLAT_NAME_LEN; i++) {
		if (name[i] != wanted_workqueue[i])
			return false;
		if (!name[i])
			break;
	}
	return true;
}

HIST_SUMS(struct wqlat_key)

static __always_inline void hist_add(struct wqlat_key *key, __u64 delta_ns)
{
	static const struct wqlat_hist zero = {};
	struct wqlat_hist *hist = map_lookup_or_insert(&hists, key, &zero);

	if (hist) {
		log2_hist_add(hist->slots, WQLAT_SLOTS, delta_ns / unit_ns);
		hist_sum_add(key, delta_ns);
	}
}

/* name: the workqueue's name, in the kernel (pwq->wq->name) or in the
 * tracefs record. */
static __always_inline void on_queue(__u64 work, const char *name)
{
	struct queued q = {};

	bpf_probe_read_kernel_str(q.name, sizeof(q.name), name);
	if (!workqueue_wanted(q.name))
		return;
	q.ts_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&queued_work, &work, &q, BPF_ANY);
}

static __always_inline void on_start_latency(__u64 work)
{
	struct queued *q = bpf_map_lookup_elem(&queued_work, &work);
	struct wqlat_key key = {};
	__u64 delta;

	if (!q)
		return;
	delta = bpf_ktime_get_ns() - q->ts_ns;
	if (per_workqueue || filter_workqueue)
		__builtin_memcpy(key.name, q->name, sizeof(key.name));
	bpf_map_delete_elem(&queued_work, &work);
	hist_add(&key, delta);
}

static __always_inline void on_start_execution(__u64 function)
{
	struct running r = { .ts_ns = bpf_ktime_get_ns(), .function = function };
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&running_work, &tid, &r, BPF_ANY);
}

static __always_inline void on_end_execution(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct running *r = bpf_map_lookup_elem(&running_work, &tid);
	struct wqlat_key key = {};
	__u64 delta;

	if (!r)
		return;
	delta = bpf_ktime_get_ns() - r->ts_ns;
	key.function = r->function;
	bpf_map_delete_elem(&running_work, &tid);
	hist_add(&key, delta);
}

/* Tier 1: BTF tracepoints. */

SEC("tp_btf/workqueue_queue_work")
int BPF_PROG(btf_queue, int req_cpu, struct pool_workqueue *pwq, struct work_struct *work)
{
	on_queue((__u64)work, BPF_CORE_READ(pwq, wq)->name);
	return 0;
}
SEC("tp_btf/workqueue_execute_start")
int BPF_PROG(btf_start, struct work_struct *work)
{
	on_start_latency((__u64)work);
	return 0;
}
SEC("tp_btf/workqueue_execute_start")
int BPF_PROG(btf_exec_start, struct work_struct *work)
{
	on_start_execution((__u64)BPF_CORE_READ(work, func));
	return 0;
}
SEC("tp_btf/workqueue_execute_end")
int BPF_PROG(btf_exec_end, struct work_struct *work)
{
	on_end_execution();
	return 0;
}

/* Tier 2: raw tracepoints, the same arguments without BTF types. */

SEC("raw_tp/workqueue_queue_work")
int BPF_PROG(raw_queue, int req_cpu, struct pool_workqueue *pwq, struct work_struct *work)
{
	on_queue((__u64)work, BPF_CORE_READ(pwq, wq)->name);
	return 0;
}
SEC("raw_tp/workqueue_execute_start")
int BPF_PROG(raw_start, struct work_struct *work)
{
	on_start_latency((__u64)work);
	return 0;
}
SEC("raw_tp/workqueue_execute_start")
int BPF_PROG(raw_exec_start, struct work_struct *work)
{
	on_start_execution((__u64)BPF_CORE_READ(work, func));
	return 0;
}
SEC("raw_tp/workqueue_execute_end")
int BPF_PROG(raw_exec_end, struct work_struct *work)
{
	on_end_execution();
	return 0;
}

/* Tier 3: the tracefs tracepoints; the workqueue's name is a __data_loc
 * string in the record. */

SEC("tracepoint/workqueue/workqueue_queue_work")
int tp_queue(struct trace_event_raw_workqueue_queue_work *ctx)
{
	on_queue((__u64)ctx->work, (const char *)ctx + (ctx->__data_loc_workqueue & 0xffff));
	return 0;
}
SEC("tracepoint/workqueue/workqueue_execute_start")
int tp_start(struct trace_event_raw_workqueue_execute_start *ctx)
{
	on_start_latency((__u64)ctx->work);
	return 0;
}
SEC("tracepoint/workqueue/workqueue_execute_start")
int tp_exec_start(struct trace_event_raw_workqueue_execute_start *ctx)
{
	on_start_execution((__u64)ctx->function);
	return 0;
}
SEC("tracepoint/workqueue/workqueue_execute_end")
int tp_exec_end(struct trace_event_raw_workqueue_execute_end *ctx)
{
	on_end_execution();
	return 0;
}
