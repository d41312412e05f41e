// SPDX-License-Identifier: GPL-2.0
/* pidpersec: new processes (and, apart, new threads) counted as the kernel
 * creates them, on sched:sched_process_fork, which fires once per task that
 * fork(), vfork() or clone() created, kernel threads included.
 *
 * A new task is a new process when it leads its own thread group (its PID
 * is its TGID). The tracefs tier has only the PIDs, not the task: there the
 * new task is a process when it is the newest child of the forking thread
 * (or, for CLONE_PARENT, of that thread's parent); threads are never linked
 * as children. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "pidpersec/pidpersec.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pidpersec_counts);
} counts SEC(".maps");

static __always_inline int count_new(bool thread)
{
	__u32 zero = 0;
	struct pidpersec_counts *c = bpf_map_lookup_elem(&counts, &zero);

	if (!c)
		return 0;
	/* Per-CPU, but a preempted program can share the slot with another
	 * run on the same CPU, so add atomically. */
	if (thread)
		__sync_fetch_and_add(&c->threads, 1);
	else
		__sync_fetch_and_add(&c->processes, 1);
	return 0;
}

/* Is the newest entry of parent's children the task with this PID? */
static __always_inline bool newest_child_is(struct task_struct *parent, pid_t pid)
{
	struct list_head *head = __builtin_preserve_access_index(&parent->children);
	struct list_head *last = BPF_CORE_READ(parent, children.prev);
	struct task_struct *child;

	if (!last || last == head)
		return false;
	child = container_of(last, struct task_struct, sibling);
	return BPF_CORE_READ(child, pid) == pid;
}

/* Tier 1: BTF-typed raw tracepoint. */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(btf_fork, struct task_struct *parent, struct task_struct *child)
{
	return count_new(child->pid != child->tgid);
}

/* Tier 2: raw tracepoint (args: parent, child). */

SEC("raw_tp/sched_process_fork")
int raw_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx->args[1];

	return count_new(BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid));
}

/* Tier 3: the tracefs tracepoint (needs tracefs). */

SEC("tracepoint/sched/sched_process_fork")
int tp_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	struct task_struct *me = (struct task_struct *)bpf_get_current_task();
	pid_t child = ctx->child_pid;
	bool process = newest_child_is(me, child) ||
		       newest_child_is(BPF_CORE_READ(me, real_parent), child);

	return count_new(!process);
}
