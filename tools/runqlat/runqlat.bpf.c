// SPDX-License-Identifier: GPL-2.0
/* runqlat: run-queue latency, the time from a task becoming runnable (woken,
 * newly forked, or preempted while still runnable) to its running on a CPU,
 * as log2 histograms.
 *
 * The task of interest is never current: at a wake-up current is the waker,
 * at a switch it is the task leaving the CPU. So the filters and the keys
 * read the task the event is about (bpf/task_filters.bpf.h).
 *
 * The tracefs tier only has PIDs, not tasks: it stamps every task, and
 * records each latency when the task leaves the CPU again, where it is
 * current and the filters and keys can look at it. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "log2.bpf.h"
#include "task_filters.bpf.h"
#include "task_state.bpf.h"
#include "runqlat/runqlat.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 split = RUNQLAT_ALL;
const volatile __u64 unit_ns = 1000; /* 1000: microseconds; 1000000: milliseconds */
/* sched_switch passes prev_state as a fourth argument (5.18+); set by the
 * loader from the tracepoint's prototype. */
const volatile bool switch_has_state = true;

/* TID -> when it became runnable. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

/* tp_btf tier: when the task became runnable, kept on the task itself, so a
 * wake-up and a switch cost no hash lookups, and a task that exits takes
 * its stamp with it. The loader leaves it out on the other tiers, whose
 * untyped task pointers cannot reach task storage. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} task_start SEC(".maps");

/* tracefs tier: TID -> latency of its last wait, until it is accounted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RUNQLAT_MAX_KEYS);
	__type(key, __u32);
	__type(value, struct runqlat_hist);
} hists SEC(".maps");

/* The PID namespace the task lives in (not the one for its children). */
static __always_inline __u32 pidns_of(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	bpf_core_read(&upid, sizeof(upid),
		      (void *)&pid->numbers[0] + level * bpf_core_type_size(struct upid));
	return BPF_CORE_READ(upid.ns, ns.inum);
}

static __always_inline __u32 key_of(struct task_struct *task)
{
	switch (split) {
	case RUNQLAT_PER_PROCESS:
		return BPF_CORE_READ(task, tgid);
	case RUNQLAT_PER_THREAD:
		return BPF_CORE_READ(task, pid);
	case RUNQLAT_PER_PIDNS:
		return pidns_of(task);
	default:
		return 0;
	}
}

static __always_inline void account(struct task_struct *task, __u64 delta_ns)
{
	static const struct runqlat_hist zero = {};
	struct runqlat_hist *hist;
	__u32 key = key_of(task);

	hist = bpf_map_lookup_elem(&hists, &key);
	if (!hist) {
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		hist = bpf_map_lookup_elem(&hists, &key);
		if (!hist)
			return;
		if (split == RUNQLAT_PER_PROCESS)
			BPF_CORE_READ_STR_INTO(&hist->comm, task, group_leader, comm);
		else if (split == RUNQLAT_PER_THREAD)
			BPF_CORE_READ_STR_INTO(&hist->comm, task, comm);
	}
	log2_hist_add(hist->slots, RUNQLAT_SLOTS, delta_ns / unit_ns);
}

/* task became runnable: stamp it. typed: task is a BTF pointer (tp_btf),
 * so the stamp goes to task storage; otherwise to the start map by TID. */
static __always_inline void enqueue(struct task_struct *task, bool typed)
{
	__u32 tid = BPF_CORE_READ(task, pid);
	__u64 now, *stamp;

	if (!tid || task_filtered_out(task)) /* tid 0: the idle task */
		return;
	now = bpf_ktime_get_ns();
	if (typed) {
		stamp = bpf_task_storage_get(&task_start, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (stamp)
			*stamp = now;
	} else {
		bpf_map_update_elem(&start, &tid, &now, BPF_ANY);
	}
}

/* prev leaves the CPU, still runnable when preempted or when its state is
 * TASK_RUNNING; next gets it. */
static __always_inline void on_switch(bool preempt, struct task_struct *prev,
				      struct task_struct *next, long prev_state, bool typed)
{
	__u32 tid;
	__u64 *begin;

	if (preempt || prev_state == 0 /* TASK_RUNNING */)
		enqueue(prev, typed);
	if (typed) {
		begin = bpf_task_storage_get(&task_start, next, 0, 0);
		if (!begin || !*begin)
			return;
		account(next, bpf_ktime_get_ns() - *begin);
		*begin = 0; /* accounted: the next switch to it waits for a new stamp */
		return;
	}
	tid = BPF_CORE_READ(next, pid);
	begin = bpf_map_lookup_elem(&start, &tid);
	if (!begin)
		return;
	account(next, bpf_ktime_get_ns() - *begin);
	bpf_map_delete_elem(&start, &tid);
}

/* Tier 1: BTF-typed tracepoints. */

SEC("tp_btf/sched_wakeup")
int BPF_PROG(btf_wakeup, struct task_struct *p)
{
	enqueue(p, true);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(btf_wakeup_new, struct task_struct *p)
{
	enqueue(p, true);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* ctx[3] exists only where the loader saw it; the verifier drops the
	 * branch that is not taken. */
	on_switch(preempt, prev, next,
		  switch_has_state ? (long)(unsigned int)ctx[3] : task_state(prev), true);
	return 0;
}

/* Tier 2: raw tracepoints (the same arguments, untyped). */

SEC("raw_tp/sched_wakeup")
int raw_wakeup(struct bpf_raw_tracepoint_args *ctx)
{
	enqueue((struct task_struct *)ctx->args[0], false);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int raw_wakeup_new(struct bpf_raw_tracepoint_args *ctx)
{
	enqueue((struct task_struct *)ctx->args[0], false);
	return 0;
}

SEC("raw_tp/sched_switch")
int raw_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *prev = (struct task_struct *)ctx->args[1];

	on_switch((bool)ctx->args[0], prev, (struct task_struct *)ctx->args[2],
		  switch_has_state ? (long)(unsigned int)ctx->args[3] : task_state(prev), false);
	return 0;
}

/* Tier 3: tracefs tracepoints, which carry PIDs only. */

static __always_inline void stamp_pid(__u32 tid)
{
	__u64 now = bpf_ktime_get_ns();

	if (tid)
		bpf_map_update_elem(&start, &tid, &now, BPF_ANY);
}

SEC("tracepoint/sched/sched_wakeup")
int tp_wakeup(struct trace_event_raw_sched_wakeup_template *ctx)
{
	stamp_pid(ctx->pid);
	return 0;
}

SEC("tracepoint/sched/sched_wakeup_new")
int tp_wakeup_new(struct trace_event_raw_sched_wakeup_template *ctx)
{
	stamp_pid(ctx->pid);
	return 0;
}

SEC("tracepoint/sched/sched_switch")
int tp_switch(struct trace_event_raw_sched_switch *ctx)
{
	__u32 prev = ctx->prev_pid, next = ctx->next_pid;
	__u64 *value;

	if (prev) {
		/* prev is current: account the wait that gave it this run. */
		value = bpf_map_lookup_elem(&pending, &prev);
		if (value) {
			if (!current_filtered_out())
				account((struct task_struct *)bpf_get_current_task(), *value);
			bpf_map_delete_elem(&pending, &prev);
		}
		/* The record's prev_state is 0 (R) or TASK_REPORT_MAX (R+,
		 * preempted) when prev stays runnable; sleeping states are
		 * single bits below TASK_REPORT_MAX (0x100 since 4.14). */
		if (!(ctx->prev_state & 0xff))
			stamp_pid(prev);
	}
	if (next) {
		value = bpf_map_lookup_elem(&start, &next);
		if (value) {
			__u64 delta = bpf_ktime_get_ns() - *value;

			bpf_map_update_elem(&pending, &next, &delta, BPF_ANY);
			bpf_map_delete_elem(&start, &next);
		}
	}
	return 0;
}
