// SPDX-License-Identifier: GPL-2.0
/* offcputime: time threads spend off CPU, summed by where they blocked (user
 * and kernel stack), thread and command.
 *
 * Everything happens at sched_switch. The thread leaving the CPU is current
 * there, so its filters, name and stacks are those of current: it is
 * stamped with the time and its stack IDs. The thread coming in looks up
 * its stamp and adds the time it was away to its key. The time off CPU so
 * includes any wait in the run queue after the wake-up, as in the classic
 * tool. The same logic serves all three tiers; they differ only in how the
 * arguments arrive. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "maps.bpf.h"
#include "stacks.bpf.h"
#include "task_state.bpf.h"
#include "offcputime/offcputime.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD	0x00200000 /* include/linux/sched.h */
#define TASK_REPORT_MAX 0x100	   /* tracefs prev_state of a preempted task (4.14+) */

const volatile __u32 threads = OFFCPUTIME_ALL_THREADS;
const volatile bool user_stacks = true;
const volatile bool kernel_stacks = true;
/* --state: with filter_state, only switches out in one of these states; 0
 * means still runnable (preempted, or yielded). */
const volatile bool filter_state = false;
const volatile __u32 state_mask = 0;
const volatile __u64 min_block_ns = 1000;
const volatile __u64 max_block_ns = ~0ULL;
/* sched_switch passes prev_state as a fourth argument (5.18+). */
const volatile bool switch_has_state = true;

__u64 dropped[OFFCPUTIME_DROP_KINDS];

/* TID -> when and where it left the CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPUTIME_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct offcputime_start);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPUTIME_MAX_KEYS);
	__type(key, struct offcputime_key);
	__type(value, struct offcputime_value);
} totals SEC(".maps");

static __always_inline bool state_selected(bool runnable, long state)
{
	if (!filter_state)
		return true;
	if (state_mask == 0)
		return runnable;
	return !runnable && (state & state_mask);
}

/* current is leaving the CPU. */
static __always_inline void switch_out(void *ctx, bool runnable, long state)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct offcputime_start stamp = {};
	bool kthread;

	if (!tid || current_filtered_out()) /* tid 0: the idle task */
		return;
	if (!state_selected(runnable, state))
		return;
	kthread = BPF_CORE_READ(task, flags) & PF_KTHREAD;
	if ((threads == OFFCPUTIME_USER_THREADS && kthread) ||
	    (threads == OFFCPUTIME_KERNEL_THREADS && !kthread))
		return;

	stamp.pid = pid_tgid >> 32;
	stamp.user_stack_id = STACK_ID_NONE;
	stamp.kernel_stack_id = STACK_ID_NONE;
	if (user_stacks && !kthread) /* a kernel thread has no user stack */
		stamp.user_stack_id = stack_id_of(ctx, BPF_F_USER_STACK);
	if (kernel_stacks)
		stamp.kernel_stack_id = stack_id_of(ctx, 0);
	bpf_get_current_comm(&stamp.comm, sizeof(stamp.comm));
	stamp.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&start, &tid, &stamp, BPF_ANY))
		__sync_fetch_and_add(&dropped[OFFCPUTIME_THREADS_DROPPED], 1);
}

/* tid gets the CPU back: add the time it was away. */
static __always_inline void switch_in(__u32 tid)
{
	static const struct offcputime_value zero = {};
	struct offcputime_start *stamp;
	struct offcputime_value *value;
	struct offcputime_key key = {};
	__u64 delta;

	if (!tid)
		return;
	stamp = bpf_map_lookup_elem(&start, &tid);
	if (!stamp)
		return;
	delta = bpf_ktime_get_ns() - stamp->start_ns;
	key.pid = stamp->pid;
	key.tid = tid;
	key.user_stack_id = stamp->user_stack_id;
	key.kernel_stack_id = stamp->kernel_stack_id;
	__builtin_memcpy(key.comm, stamp->comm, sizeof(key.comm));
	bpf_map_delete_elem(&start, &tid);
	if (delta < min_block_ns || delta > max_block_ns)
		return;

	value = map_lookup_or_insert(&totals, &key, &zero);
	if (!value) {
		__sync_fetch_and_add(&dropped[OFFCPUTIME_KEYS_DROPPED], 1);
		return;
	}
	__sync_fetch_and_add(&value->total_ns, delta);
	__sync_fetch_and_add(&value->count, 1);
}

/* Tier 1: the BTF-typed tracepoint. */
SEC("tp_btf/sched_switch")
int BPF_PROG(btf_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* ctx[3] exists only where the loader saw it; the verifier drops the
	 * branch that is not taken. */
	long state = switch_has_state ? (long)(unsigned int)ctx[3] : task_state(prev);

	switch_out(ctx, preempt || state == 0, state);
	switch_in(BPF_CORE_READ(next, pid));
	return 0;
}

/* Tier 2: the raw tracepoint (the same arguments, untyped). */
SEC("raw_tp/sched_switch")
int raw_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *prev = (struct task_struct *)ctx->args[1];
	struct task_struct *next = (struct task_struct *)ctx->args[2];
	long state = switch_has_state ? (long)(unsigned int)ctx->args[3] : task_state(prev);

	switch_out(ctx, (bool)ctx->args[0] || state == 0, state);
	switch_in(BPF_CORE_READ(next, pid));
	return 0;
}

/* Tier 3: the tracefs tracepoint. Its prev_state is the reported state: 0
 * (R) or TASK_REPORT_MAX (preempted) for a runnable task, else one bit
 * (S 1, D 2, T 4, t 8, ..., I 0x80), the same bits as the task's state for
 * S, D, T and t. */
SEC("tracepoint/sched/sched_switch")
int tp_switch(struct trace_event_raw_sched_switch *ctx)
{
	long state = ctx->prev_state;

	switch_out(ctx, (state & TASK_REPORT_MAX) || state == 0, state & (TASK_REPORT_MAX - 1));
	switch_in(ctx->next_pid);
	return 0;
}
