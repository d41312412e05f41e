/* When each task became runnable, for the tools that time run-queue waits
 * (runqlat, runqslower): a task is stamped when it is woken, newly forked,
 * or switched out while still runnable, and its wait ends when it is
 * switched in.
 *
 * The task of interest is never current: at a wake-up current is the waker,
 * at a switch it is the task leaving the CPU. So the filters read the task
 * the event is about (bpf/task_filters.bpf.h).
 *
 * typed: the task is a BTF pointer (tp_btf), so the stamp lives in task
 * storage (no hash lookups, and a task that exits takes its stamp with
 * it); otherwise in the start map by TID. The loader leaves out the map a
 * tier does not use. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "task_filters.bpf.h"

/* TID -> when it became runnable (raw_tp and tracefs tiers). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

/* tp_btf tier: when the task became runnable, on the task itself. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} task_start SEC(".maps");

/* task became runnable: stamp it, unless filtered out or idle. */
static __always_inline void runq_enqueue(struct task_struct *task, bool typed)
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

/* At a switch: stamps prev if it stays runnable (preempted, or its state is
 * TASK_RUNNING), and returns how long next waited, 0 when it was not
 * stamped. The stamp is used up: the next switch to next waits for a new
 * one. */
static __always_inline __u64 runq_switch(bool preempt, struct task_struct *prev,
					 struct task_struct *next, long prev_state, bool typed)
{
	__u64 *begin, waited;
	__u32 tid;

	if (preempt || prev_state == 0 /* TASK_RUNNING */)
		runq_enqueue(prev, typed);
	/* A filtered-out task is never stamped: no storage or map to read. */
	if (task_filtered_out(next))
		return 0;
	if (typed) {
		begin = bpf_task_storage_get(&task_start, next, 0, 0);
		if (!begin || !*begin)
			return 0;
		waited = bpf_ktime_get_ns() - *begin;
		*begin = 0;
		return waited;
	}
	tid = BPF_CORE_READ(next, pid);
	begin = bpf_map_lookup_elem(&start, &tid);
	if (!begin)
		return 0;
	waited = bpf_ktime_get_ns() - *begin;
	bpf_map_delete_elem(&start, &tid);
	return waited;
}

/* tracefs tier, which has PIDs only: stamps every task, unfiltered. */
static __always_inline void runq_stamp_pid(__u32 tid)
{
	__u64 now = bpf_ktime_get_ns();

	if (tid)
		bpf_map_update_elem(&start, &tid, &now, BPF_ANY);
}

/* tracefs tier: how long tid waited, 0 when it was not stamped. */
static __always_inline __u64 runq_waited_pid(__u32 tid)
{
	__u64 *begin = tid ? bpf_map_lookup_elem(&start, &tid) : 0, waited;

	if (!begin)
		return 0;
	waited = bpf_ktime_get_ns() - *begin;
	bpf_map_delete_elem(&start, &tid);
	return waited;
}

/* The tracefs record's prev_state is 0 (R) or TASK_REPORT_MAX (R+,
 * preempted) when prev stays runnable; sleeping states are single bits below
 * TASK_REPORT_MAX (0x100 since 4.14). */
static __always_inline bool runq_record_runnable(__u64 prev_state) { return !(prev_state & 0xff); }

/* The wake-up programs of the three tiers, which stamp the woken task and
 * are the same in every tool that times run-queue waits; the tool writes
 * its own sched_switch programs (btf_switch, raw_switch, tp_switch). */
#define RUNQ_WAKEUP_PROGRAMS()                                                                     \
	SEC("tp_btf/sched_wakeup")                                                                 \
	int BPF_PROG(btf_wakeup, struct task_struct *p)                                            \
	{                                                                                          \
		runq_enqueue(p, true);                                                             \
		return 0;                                                                          \
	}                                                                                          \
	SEC("tp_btf/sched_wakeup_new")                                                             \
	int BPF_PROG(btf_wakeup_new, struct task_struct *p)                                        \
	{                                                                                          \
		runq_enqueue(p, true);                                                             \
		return 0;                                                                          \
	}                                                                                          \
	SEC("raw_tp/sched_wakeup")                                                                 \
	int raw_wakeup(struct bpf_raw_tracepoint_args *ctx)                                        \
	{                                                                                          \
		runq_enqueue((struct task_struct *)ctx->args[0], false);                           \
		return 0;                                                                          \
	}                                                                                          \
	SEC("raw_tp/sched_wakeup_new")                                                             \
	int raw_wakeup_new(struct bpf_raw_tracepoint_args *ctx)                                    \
	{                                                                                          \
		runq_enqueue((struct task_struct *)ctx->args[0], false);                           \
		return 0;                                                                          \
	}                                                                                          \
	/* tracefs: PIDs only, every task stamped */                                               \
	SEC("tracepoint/sched/sched_wakeup")                                                       \
	int tp_wakeup(struct trace_event_raw_sched_wakeup_template *ctx)                           \
	{                                                                                          \
		runq_stamp_pid(ctx->pid);                                                          \
		return 0;                                                                          \
	}                                                                                          \
	SEC("tracepoint/sched/sched_wakeup_new")                                                   \
	int tp_wakeup_new(struct trace_event_raw_sched_wakeup_template *ctx)                       \
	{                                                                                          \
		runq_stamp_pid(ctx->pid);                                                          \
		return 0;                                                                          \
	}
