/* The kernel side shared by wakeuptime and offwaketime: a traced thread
 * that blocks (leaves the CPU not runnable) at sched_switch, the thread that
 * wakes it at sched_waking, and the thread coming back at sched_switch.
 *
 * sched_waking, not sched_wakeup: it fires in try_to_wake_up itself, so
 * current is the waker. sched_wakeup may fire later on the woken task's
 * CPU (a queued remote wake-up), where current is whatever ran there.
 *
 * The filters (-p -t -u -c) and the thread kind select the blocked thread;
 * it is current when it leaves the CPU. The tool defines the three
 * handlers declared below; this header defines the programs of the three
 * tiers, which differ only in how the arguments arrive. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "stacks.bpf.h"
#include "task_state.bpf.h"
#include "wakeup_stacks.h"

#define WAKEUPS_PF_KTHREAD	0x00200000 /* include/linux/sched.h */
#define WAKEUPS_TASK_REPORT_MAX 0x100	   /* tracefs prev_state of a preempted task (4.14+) */

const volatile __u32 threads = WAKEUPS_ALL_THREADS;
const volatile bool user_stacks = true;
const volatile bool kernel_stacks = true;
const volatile __u64 min_block_ns = 1000;
const volatile __u64 max_block_ns = ~0ULL;
/* sched_switch passes prev_state as a fourth argument (5.18+). */
const volatile bool switch_has_state = true;

__u64 dropped[WAKEUPS_DROP_KINDS];

/* current, a traced thread, blocks (leaves the CPU not runnable). */
static __always_inline void wakeups_blocked(void *ctx, __u32 tid, bool kthread);
/* current wakes the thread tid. */
static __always_inline void wakeups_waking(void *ctx, __u32 tid);
/* tid gets the CPU back. */
static __always_inline void wakeups_switch_in(__u32 tid);

/* The block's length, when it is within --min-block and --max-block. */
static __always_inline bool block_selected(__u64 delta)
{
	return delta >= min_block_ns && delta <= max_block_ns;
}

/* current: who it is and, as the options ask, its stacks (a kernel thread
 * has no user stack). */
static __always_inline void current_stacks(void *ctx, struct task_stacks *out, bool kthread)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	out->pid = pid_tgid >> 32;
	out->tid = (__u32)pid_tgid;
	out->user_stack_id = STACK_ID_NONE;
	out->kernel_stack_id = STACK_ID_NONE;
	if (user_stacks && !kthread)
		out->user_stack_id = stack_id_of(ctx, BPF_F_USER_STACK);
	if (kernel_stacks)
		out->kernel_stack_id = stack_id_of(ctx, 0);
	bpf_get_current_comm(&out->comm, sizeof(out->comm));
}

static __always_inline bool current_is_kthread(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, flags) & WAKEUPS_PF_KTHREAD;
}

static __always_inline void wakeups_switch(void *ctx, bool runnable, __u32 next_tid)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bool kthread;

	/* tid 0: the idle task. A runnable thread was preempted: nobody
	 * wakes it. */
	if (tid && !runnable && !current_filtered_out()) {
		kthread = current_is_kthread();
		if (!(threads == WAKEUPS_USER_THREADS && kthread) &&
		    !(threads == WAKEUPS_KERNEL_THREADS && !kthread))
			wakeups_blocked(ctx, tid, kthread);
	}
	if (next_tid)
		wakeups_switch_in(next_tid);
}

/* Tier 1: the BTF-typed tracepoints. */
SEC("tp_btf/sched_switch")
int BPF_PROG(btf_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* ctx[3] exists only where the loader saw it; the verifier drops the
	 * branch that is not taken. */
	long state = switch_has_state ? (long)(unsigned int)ctx[3] : task_state(prev);

	wakeups_switch(ctx, preempt || state == 0, BPF_CORE_READ(next, pid));
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(btf_waking, struct task_struct *p)
{
	wakeups_waking(ctx, BPF_CORE_READ(p, pid));
	return 0;
}

/* Tier 2: the raw tracepoints (the same arguments, untyped). */
SEC("raw_tp/sched_switch")
int raw_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *prev = (struct task_struct *)ctx->args[1];
	struct task_struct *next = (struct task_struct *)ctx->args[2];
	long state = switch_has_state ? (long)(unsigned int)ctx->args[3] : task_state(prev);

	wakeups_switch(ctx, (bool)ctx->args[0] || state == 0, BPF_CORE_READ(next, pid));
	return 0;
}

SEC("raw_tp/sched_waking")
int raw_waking(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *p = (struct task_struct *)ctx->args[0];

	wakeups_waking(ctx, BPF_CORE_READ(p, pid));
	return 0;
}

/* Tier 3: the tracefs tracepoints. prev_state is the reported state: 0 (R)
 * or TASK_REPORT_MAX (preempted) for a runnable task. */
SEC("tracepoint/sched/sched_switch")
int tp_switch(struct trace_event_raw_sched_switch *ctx)
{
	long state = ctx->prev_state;

	wakeups_switch(ctx, (state & WAKEUPS_TASK_REPORT_MAX) || state == 0, ctx->next_pid);
	return 0;
}

SEC("tracepoint/sched/sched_waking")
int tp_waking(struct trace_event_raw_sched_wakeup_template *ctx)
{
	wakeups_waking(ctx, ctx->pid);
	return 0;
}
