// SPDX-License-Identifier: GPL-2.0
/* runqlat: run-queue latency, the time from a task becoming runnable (woken,
 * newly forked, or preempted while still runnable) to its running on a CPU,
 * as log2 histograms (the stamps: bpf/runq_stamps.bpf.h).
 *
 * The tracefs tier only has PIDs, not tasks: it stamps every task, and
 * records each latency when the task leaves the CPU again, where it is
 * current and the filters and keys can look at it. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "runq_stamps.bpf.h"
#include "task_hists.bpf.h"
#include "task_state.bpf.h"
#include "runqlat/runqlat.h"

char LICENSE[] SEC("license") = "GPL";

/* sched_switch passes prev_state as a fourth argument (5.18+); set by the
 * loader from the tracepoint's prototype. */
const volatile bool switch_has_state = true;

/* tracefs tier: TID -> latency of its last wait, until it is accounted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} pending SEC(".maps");

/* Accounts the wait of next, if it was stamped. */
static __always_inline void on_switch(bool preempt, struct task_struct *prev,
				      struct task_struct *next, long prev_state, bool typed)
{
	__u64 waited = runq_switch(preempt, prev, next, prev_state, typed);

	if (waited)
		task_hist_add(next, waited);
}

/* The wake-ups of every tier (bpf/runq_stamps.bpf.h). */
RUNQ_WAKEUP_PROGRAMS()

/* Tier 1: BTF-typed tracepoints. */

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

SEC("raw_tp/sched_switch")
int raw_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *prev = (struct task_struct *)ctx->args[1];

	on_switch((bool)ctx->args[0], prev, (struct task_struct *)ctx->args[2],
		  switch_has_state ? (long)(unsigned int)ctx->args[3] : task_state(prev), false);
	return 0;
}

/* Tier 3: tracefs tracepoints, which carry PIDs only. */

SEC("tracepoint/sched/sched_switch")
int tp_switch(struct trace_event_raw_sched_switch *ctx)
{
	__u32 prev = ctx->prev_pid, next = ctx->next_pid;
	__u64 *value, waited;

	if (prev) {
		/* prev is current: account the wait that gave it this run. */
		value = bpf_map_lookup_elem(&pending, &prev);
		if (value) {
			if (!current_filtered_out())
				task_hist_add((struct task_struct *)bpf_get_current_task(), *value);
			bpf_map_delete_elem(&pending, &prev);
		}
		if (runq_record_runnable(ctx->prev_state))
			runq_stamp_pid(prev);
	}
	waited = runq_waited_pid(next);
	if (waited)
		bpf_map_update_elem(&pending, &next, &waited, BPF_ANY);
	return 0;
}
