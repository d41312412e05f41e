// SPDX-License-Identifier: GPL-2.0
/* cpudist: the time a task runs each time it gets a CPU (on-CPU), or with
 * offcpu the time between leaving a CPU and getting one again (off-CPU:
 * blocked, sleeping and waiting in the run queue), as log2 histograms.
 *
 * Everything happens at sched_switch, where prev leaves the CPU and next
 * gets it: one task's stretch ends and the other's stamp is taken. The
 * filters are checked when a task is stamped, so a filtered-out task costs
 * a few reads and no map update.
 *
 * The tracefs tier only has PIDs, and current is prev: on-CPU it accounts
 * prev (current) and stamps every next; off-CPU it stamps prev and keeps
 * next's off-CPU time until next leaves the CPU again, where it is current
 * and the keys can read it. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "task_filters.bpf.h"
#include "task_hists.bpf.h"
#include "cpudist/cpudist.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool offcpu = false;

/* tp_btf tier: the stamp on the task itself (no hash lookup, freed with the
 * task). The loader leaves it out on the other tiers. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} task_stamp SEC(".maps");

/* raw_tp and tracefs tiers: TID -> stamp. Entries leave when accounted;
 * off-CPU an exiting task is not stamped, so dead TIDs do not pile up. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} stamps SEC(".maps");

/* tracefs tier, off-CPU: TID -> its last off-CPU time, until accounted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} pending SEC(".maps");

/* typed: task is a BTF pointer (tp_btf), so the stamp lives in task storage. */
static __always_inline void stamp(struct task_struct *task, __u64 now, bool typed)
{
	__u32 tid = BPF_CORE_READ(task, pid);
	__u64 *slot;

	if (!tid || task_filtered_out(task)) /* tid 0: the idle task */
		return;
	if (typed) {
		slot = bpf_task_storage_get(&task_stamp, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (slot)
			*slot = now;
	} else {
		bpf_map_update_elem(&stamps, &tid, &now, BPF_ANY);
	}
}

/* The stretch that ends now for task, if it was stamped. */
static __always_inline void account(struct task_struct *task, __u64 now, bool typed)
{
	__u32 tid;
	__u64 *begin;

	if (typed) {
		begin = bpf_task_storage_get(&task_stamp, task, 0, 0);
		if (!begin || !*begin)
			return;
		task_hist_add(task, now - *begin);
		*begin = 0; /* accounted: the next stretch starts with a new stamp */
		return;
	}
	tid = BPF_CORE_READ(task, pid);
	begin = bpf_map_lookup_elem(&stamps, &tid);
	if (!begin)
		return;
	task_hist_add(task, now - *begin);
	bpf_map_delete_elem(&stamps, &tid);
}

static __always_inline void on_switch(struct task_struct *prev, struct task_struct *next,
				      bool typed)
{
	__u64 now;

	/* A filtered-out task is never stamped: when neither is traced there
	 * is nothing to account or stamp, and no clock or storage to read. */
	if (task_filtered_out(prev) && task_filtered_out(next))
		return;
	now = bpf_ktime_get_ns();
	if (offcpu) {
		/* A task leaving for the last time never comes back. */
		if (!BPF_CORE_READ(prev, exit_state))
			stamp(prev, now, typed);
		account(next, now, typed);
	} else {
		account(prev, now, typed);
		stamp(next, now, typed);
	}
}

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(prev, next, true);
	return 0;
}

SEC("raw_tp/sched_switch")
int raw_switch(struct bpf_raw_tracepoint_args *ctx)
{
	on_switch((struct task_struct *)ctx->args[1], (struct task_struct *)ctx->args[2], false);
	return 0;
}

/* The record's prev_state carries exit_state's bits (EXIT_DEAD 0x10,
 * EXIT_ZOMBIE 0x20) for a task that has exited. */
#define EXITED_STATE_BITS 0x30

SEC("tracepoint/sched/sched_switch")
int tp_switch(struct trace_event_raw_sched_switch *ctx)
{
	__u32 prev = ctx->prev_pid, next = ctx->next_pid;
	__u64 now = bpf_ktime_get_ns(), *value;
	bool traced = prev && !current_filtered_out();

	if (offcpu) {
		if (prev) {
			/* prev is current: account the off-CPU time that ended
			 * when it got this run, then stamp its leaving. */
			value = bpf_map_lookup_elem(&pending, &prev);
			if (value) {
				if (traced)
					task_hist_add((struct task_struct *)bpf_get_current_task(),
						      *value);
				bpf_map_delete_elem(&pending, &prev);
			}
			if (traced && !(ctx->prev_state & EXITED_STATE_BITS))
				bpf_map_update_elem(&stamps, &prev, &now, BPF_ANY);
		}
		value = next ? bpf_map_lookup_elem(&stamps, &next) : 0;
		if (value) {
			__u64 delta = now - *value;

			bpf_map_update_elem(&pending, &next, &delta, BPF_ANY);
			bpf_map_delete_elem(&stamps, &next);
		}
		return 0;
	}
	if (prev) {
		value = bpf_map_lookup_elem(&stamps, &prev);
		if (value) {
			if (traced)
				task_hist_add((struct task_struct *)bpf_get_current_task(),
					      now - *value);
			bpf_map_delete_elem(&stamps, &prev);
		}
	}
	if (next)
		bpf_map_update_elem(&stamps, &next, &now, BPF_ANY);
	return 0;
}
