/* The map of per-task log2 histograms (bpf/task_hist.h) and the one way to
 * add a time to it, for the scheduler histogram tools (runqlat, cpudist).
 * The loader sets hist_split and hist_unit_ns. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "log2.bpf.h"
#include "task_hist.h"

const volatile __u32 hist_split = TASK_HIST_ALL;
const volatile __u64 hist_unit_ns = 1000; /* 1000: microseconds; 1000000: milliseconds */
/* corescope export: keep the sum of every time added (all keys together),
 * for a Prometheus histogram's _sum. */
const volatile bool hist_keep_sum = false;
__u64 hist_sum_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TASK_HIST_MAX_KEYS);
	__type(key, __u32);
	__type(value, struct task_hist);
} hists SEC(".maps");

/* The PID namespace the task lives in (not the one for its children). */
static __always_inline __u32 task_pidns(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	bpf_core_read(&upid, sizeof(upid),
		      (void *)&pid->numbers[0] + level * bpf_core_type_size(struct upid));
	return BPF_CORE_READ(upid.ns, ns.inum);
}

static __always_inline __u32 task_hist_key(struct task_struct *task)
{
	switch (hist_split) {
	case TASK_HIST_PER_PROCESS:
		return BPF_CORE_READ(task, tgid);
	case TASK_HIST_PER_THREAD:
		return BPF_CORE_READ(task, pid);
	case TASK_HIST_PER_PIDNS:
		return task_pidns(task);
	default:
		return 0;
	}
}

/* Adds delta_ns, in hist_unit_ns units, to task's histogram. */
static __always_inline void task_hist_add(struct task_struct *task, __u64 delta_ns)
{
	static const struct task_hist zero = {};
	struct task_hist *hist;
	__u32 key = task_hist_key(task);

	hist = bpf_map_lookup_elem(&hists, &key);
	if (!hist) {
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		hist = bpf_map_lookup_elem(&hists, &key);
		if (!hist)
			return;
		if (hist_split == TASK_HIST_PER_PROCESS)
			BPF_CORE_READ_STR_INTO(&hist->comm, task, group_leader, comm);
		else if (hist_split == TASK_HIST_PER_THREAD)
			BPF_CORE_READ_STR_INTO(&hist->comm, task, comm);
	}
	log2_hist_add(hist->slots, TASK_HIST_SLOTS, delta_ns / hist_unit_ns);
	if (hist_keep_sum)
		__sync_fetch_and_add(&hist_sum_ns, delta_ns);
}
