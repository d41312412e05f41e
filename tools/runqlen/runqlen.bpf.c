// SPDX-License-Identifier: GPL-2.0
/* runqlen: sample each CPU's run-queue length at a fixed rate.
 *
 * The loader opens a CPU-clock perf event on each CPU and attaches this
 * program to them, so it runs on every CPU in turn, whatever runs there. It
 * reads how many CFS tasks are runnable on that CPU, takes off the one
 * running, and counts the sample in that CPU's linear histogram. User space
 * reads the counts (cumulative) every interval. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "runqlen/runqlen.h"

char LICENSE[] SEC("license") = "GPL";

/* Sized by the loader to the possible CPUs; the key is the CPU. Each CPU's
 * program writes only its own entry, so plain adds suffice. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct runqlen_value);
} cpus SEC(".maps");

/* -o prometheus: the sum of every length sampled (before the last slot
 * caps it), for the histogram's _sum. */
const volatile bool keep_sums = false;
__u64 length_sum = 0;

/* Before 6.14 (the 6.1 guest's kernel) the hierarchical count of queued
 * tasks was h_nr_running; since then it is h_nr_queued, which includes
 * tasks whose dequeue is delayed (asleep, EEVDF lag), and h_nr_runnable,
 * which does not. */
struct cfs_rq___old {
	unsigned int h_nr_running;
};

/* 6.14+, written out for older vmlinux.h files (arm64's, from 6.1). */
struct cfs_rq___new {
	unsigned int h_nr_runnable;
} __attribute__((preserve_access_index));

/* The tasks runnable in the CPU's root CFS queue, across all task groups. */
static __always_inline __u64 cfs_runnable(struct task_struct *task)
{
	struct cfs_rq *cfs = BPF_CORE_READ(task, se.cfs_rq);
	struct cfs_rq___old *old;

	/* With group scheduling the task's own queue is its group's: climb to
	 * the CPU's root queue, which counts every group's tasks. */
	if (bpf_core_field_exists(cfs->rq)) {
		struct rq *rq = BPF_CORE_READ(cfs, rq);

		cfs = &rq->cfs;
	}
	if (bpf_core_field_exists(((struct cfs_rq___new *)cfs)->h_nr_runnable))
		return BPF_CORE_READ((struct cfs_rq___new *)cfs, h_nr_runnable);
	old = (void *)cfs;
	return BPF_CORE_READ(old, h_nr_running);
}

SEC("perf_event")
int sample(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u32 cpu = bpf_get_smp_processor_id();
	struct runqlen_value *value;
	__u64 len = cfs_runnable(task);

	/* A running CFS task is counted in the queue but does not wait in it;
	 * the idle task and real-time tasks are not counted (their se is not
	 * on a CFS queue). */
	if (len > 0 && BPF_CORE_READ(task, se.on_rq))
		len--;
	if (keep_sums)
		__sync_fetch_and_add(&length_sum, len);
	if (len >= RUNQLEN_SLOTS)
		len = RUNQLEN_SLOTS - 1;
	value = bpf_map_lookup_elem(&cpus, &cpu);
	if (value)
		value->slots[len]++;
	return 0;
}
