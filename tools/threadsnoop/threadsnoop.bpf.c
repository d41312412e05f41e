// SPDX-License-Identifier: GPL-2.0
/* threadsnoop: every new thread (task:task_newtask with CLONE_THREAD, made
 * in its creator's context), with the start routine where the creator went
 * through the C library's pthread_create, whose entry a uprobe saves per
 * thread until it returns. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "threadsnoop/threadsnoop.h"

char LICENSE[] SEC("license") = "GPL";

#define CLONE_THREAD 0x00010000

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} start_routines SEC(".maps");

SEC("uprobe")
int BPF_KPROBE(pthread_create_entry, void *thread, const void *attr, void *start_routine)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 routine = (__u64)start_routine;

	if (current_filtered_out())
		return 0;
	bpf_map_update_elem(&start_routines, &tid, &routine, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(pthread_create_return)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&start_routines, &tid);
	return 0;
}

static __always_inline int on_newtask(void *ctx, __u32 new_tid, __u64 clone_flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct threadsnoop_event e = {};
	__u64 *routine;

	if (!(clone_flags & CLONE_THREAD))
		return 0;
	if (current_filtered_out())
		return 0;
	routine = bpf_map_lookup_elem(&start_routines, &tid);
	e.ts_ns = bpf_ktime_get_ns();
	e.start_routine = routine ? *routine : 0;
	e.pid = pid_tgid >> 32;
	e.tid = tid;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.new_tid = new_tid;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	events_output(ctx, &e, sizeof(e));
	return 0;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(btf_newtask, struct task_struct *task, u64 clone_flags)
{
	return on_newtask(ctx, task->pid, clone_flags);
}

SEC("raw_tp/task_newtask")
int BPF_PROG(raw_newtask, struct task_struct *task, u64 clone_flags)
{
	return on_newtask(ctx, BPF_CORE_READ(task, pid), clone_flags);
}

SEC("tracepoint/task/task_newtask")
int tp_newtask(struct trace_event_raw_task_newtask *ctx)
{
	return on_newtask(ctx, ctx->pid, ctx->clone_flags);
}
