// SPDX-License-Identifier: GPL-2.0
/* runqslower: every wait on a run queue (from a task becoming runnable to
 * its running, bpf/runq_stamps.bpf.h) at least min_wait_ns long, with the
 * task it took the CPU from.
 *
 * The tracefs tier only has PIDs, not tasks: a long wait is kept until the
 * task leaves the CPU again, where it is current and the filters and the
 * event can read it. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "runq_stamps.bpf.h"
#include "task_state.bpf.h"
#include "runqslower/runqslower.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_wait_ns = 10000000;
/* sched_switch passes prev_state as a fourth argument (5.18+). */
const volatile bool switch_has_state = true;

/* tracefs tier: TID -> its long wait, until it leaves the CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct runqslower_event);
} pending SEC(".maps");

static __always_inline void on_switch(void *ctx, bool preempt, struct task_struct *prev,
				      struct task_struct *next, long prev_state, bool typed)
{
	__u64 waited = runq_switch(preempt, prev, next, prev_state, typed);
	struct runqslower_event e = {};

	if (waited < min_wait_ns || !waited)
		return;
	e.ts_ns = bpf_ktime_get_ns();
	e.wait_ns = waited;
	e.pid = BPF_CORE_READ(next, tgid);
	e.tid = BPF_CORE_READ(next, pid);
	e.prev_tid = BPF_CORE_READ(prev, pid);
	e.cpu = bpf_get_smp_processor_id();
	BPF_CORE_READ_STR_INTO(&e.comm, next, comm);
	BPF_CORE_READ_STR_INTO(&e.prev_comm, prev, comm);
	events_output(ctx, &e, sizeof(e));
}

/* The wake-ups of every tier (bpf/runq_stamps.bpf.h). */
RUNQ_WAKEUP_PROGRAMS()

/* Tier 1: BTF-typed tracepoints. */

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* ctx[3] exists only where the loader saw it. */
	on_switch(ctx, preempt, prev, next,
		  switch_has_state ? (long)(unsigned int)ctx[3] : task_state(prev), true);
	return 0;
}

/* Tier 2: raw tracepoints (the same arguments, untyped). */

SEC("raw_tp/sched_switch")
int raw_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *prev = (struct task_struct *)ctx->args[1];

	on_switch(ctx, (bool)ctx->args[0], prev, (struct task_struct *)ctx->args[2],
		  switch_has_state ? (long)(unsigned int)ctx->args[3] : task_state(prev), false);
	return 0;
}

/* Tier 3: tracefs tracepoints, which carry PIDs only. */

SEC("tracepoint/sched/sched_switch")
int tp_switch(struct trace_event_raw_sched_switch *ctx)
{
	__u32 prev = ctx->prev_pid, next = ctx->next_pid;
	struct runqslower_event *e;
	__u64 waited;

	if (prev) {
		/* prev is current: send the long wait that gave it this run. */
		e = bpf_map_lookup_elem(&pending, &prev);
		if (e) {
			if (!current_filtered_out()) {
				e->pid = bpf_get_current_pid_tgid() >> 32;
				events_output(ctx, e, sizeof(*e));
			}
			bpf_map_delete_elem(&pending, &prev);
		}
		if (runq_record_runnable(ctx->prev_state))
			runq_stamp_pid(prev);
	}
	waited = runq_waited_pid(next);
	if (waited >= min_wait_ns && waited) {
		struct runqslower_event pend = {};

		pend.ts_ns = bpf_ktime_get_ns();
		pend.wait_ns = waited;
		pend.tid = next;
		pend.prev_tid = prev;
		pend.cpu = bpf_get_smp_processor_id();
		/* Read, not memcpy: the verifier refuses loads through a
		 * moved context pointer. */
		bpf_probe_read_kernel(pend.comm, sizeof(pend.comm), ctx->next_comm);
		bpf_probe_read_kernel(pend.prev_comm, sizeof(pend.prev_comm), ctx->prev_comm);
		bpf_map_update_elem(&pending, &next, &pend, BPF_ANY);
	}
	return 0;
}
