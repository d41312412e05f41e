// SPDX-License-Identifier: GPL-2.0
/* exitsnoop: process (and, with --threads, thread) exits, with their age and
 * exit status.
 *
 * sched_process_exit fires in the exiting task (current) after do_exit()
 * has set task->exit_code and before the task is reparented or reaped. A
 * process has exited when its last thread does: newer kernels pass that as
 * group_dead; older ones do not, and there the thread group leader's exit
 * stands for the process, as the classic tools do. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "exitsnoop/exitsnoop.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool failed_only = false;
const volatile bool trace_threads = false;
/* The BTF tracepoint passes group_dead (6.16+); set by the loader. */
const volatile bool have_group_dead = false;

/* The tracefs format of sched_process_exit, with group_dead where the
 * kernel has it (its own event class since 6.16). */
struct trace_event_raw_sched_process_exit___corescope {
	bool group_dead;
} __attribute__((preserve_access_index));

/* group_dead: 1 the process ended with this task, 0 it lives on, -1 unknown. */
static __always_inline int on_exit(void *ctx, int group_dead)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	struct exitsnoop_event e = {};
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	bool process_ended;

	if (group_dead < 0)
		process_ended = (__u32)pid_tgid == pid_tgid >> 32;
	else
		process_ended = group_dead;
	if (!trace_threads && !process_ended)
		return 0;
	e.exit_code = BPF_CORE_READ(task, exit_code);
	if (failed_only && !e.exit_code)
		return 0;
	if (current_filtered_out())
		return 0;

	e.ts_ns = bpf_ktime_get_ns();
	e.pid = pid_tgid >> 32;
	e.tid = (__u32)pid_tgid;
	e.ppid = BPF_CORE_READ(task, real_parent, tgid);
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.thread = !process_ended;
	if (trace_threads) {
		e.start_ns = BPF_CORE_READ(task, start_time);
		bpf_get_current_comm(e.comm, sizeof(e.comm));
	} else {
		/* The process: its leader's start and name (the leader may be a
		 * zombie by now; both stay readable). */
		e.start_ns = BPF_CORE_READ(leader, start_time);
		BPF_CORE_READ_STR_INTO(&e.comm, leader, comm);
	}
	events_output(ctx, &e, sizeof(e));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(btf_exit)
{
	/* ctx[1] is read only where the loader saw it in the prototype; the
	 * verifier drops the other branch. */
	return on_exit(ctx, have_group_dead ? (int)(bool)ctx[1] : -1);
}

SEC("raw_tp/sched_process_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return on_exit(ctx, have_group_dead ? (int)(bool)ctx->args[1] : -1);
}

SEC("tracepoint/sched/sched_process_exit")
int tp_exit(void *ctx)
{
	struct trace_event_raw_sched_process_exit___corescope *args = ctx;

	if (bpf_core_field_exists(args->group_dead))
		return on_exit(ctx, args->group_dead);
	return on_exit(ctx, -1);
}
