// SPDX-License-Identifier: GPL-2.0
/* execsnoop: every execve() and execveat(), with its arguments and result.
 *
 * A successful exec is reported from the new image: its arguments sit in
 * one block at mm->arg_start, read with a single copy, and the process is
 * caught even if it exits at once (we run before it does). A failed exec
 * still has the caller's memory, so its argv is read entry by entry from
 * the pointer saved at entry. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "execsnoop/execsnoop.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool failed_only = false;
const volatile __u32 args_size = 4096; /* <= EXECSNOOP_ARGS_SIZE_MAX */
/* corescope export: count the calls (struct execsnoop_counts) and send no
 * events. */
const volatile bool counts_only = false;

struct execsnoop_counts exec_counts = {};

/* Entries orphaned when a non-leader thread execs (its TID changes to the
 * leader's) age out of the LRU. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, const char **);
} pending_argv SEC(".maps");

EVENT_SCRATCH(struct execsnoop_event, scratch);

static __always_inline int on_enter(const char **argv)
{
	__u32 tid;

	if (current_filtered_out())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending_argv, &tid, &argv, BPF_ANY);
	return 0;
}

static __always_inline void fill_common(struct execsnoop_event *e, long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	e->ts_ns = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ret = ret;
	e->args_truncated = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

static __always_inline void read_new_image_args(struct execsnoop_event *e)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	__u64 len = end > start ? end - start : 0;
	__u64 limit = args_size;

	if (limit > EXECSNOOP_ARGS_SIZE_MAX)
		limit = EXECSNOOP_ARGS_SIZE_MAX;
	if (len > limit) {
		len = limit;
		e->args_truncated = 1;
	}
	if (len > EXECSNOOP_ARGS_SIZE_MAX) /* for the verifier */
		len = EXECSNOOP_ARGS_SIZE_MAX;
	if (bpf_probe_read_user(e->args, len, (void *)start))
		len = 0;
	e->args_len = len;
}

static __always_inline void read_saved_argv(struct execsnoop_event *e, const char **argv)
{
	__u64 off = 0; /* 64-bit, so the verifier keeps its bounds */
	__u64 limit = args_size;

	for (int i = 0; i < EXECSNOOP_FAILED_ARGS_MAX; i++) {
		const char *arg = NULL;
		long n;

		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			goto done;
		if (off >= limit || off > EXECSNOOP_ARGS_SIZE_MAX) {
			e->args_truncated = 1;
			goto done;
		}
		n = bpf_probe_read_user_str(&e->args[off], EXECSNOOP_ARG_MAX, arg);
		if (n <= 0)
			goto done;
		off += n;
	}
	e->args_truncated = 1; /* more entries than we read */
done:
	e->args_len = off;
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	const char ***saved = bpf_map_lookup_elem(&pending_argv, &tid);
	const char **argv = saved ? *saved : NULL;
	struct execsnoop_event *e;
	__u64 size;

	if (saved)
		bpf_map_delete_elem(&pending_argv, &tid);
	if (counts_only) {
		/* A failed call counts if it passed the filters at entry, a
		 * successful one if the new image passes them. */
		if (ret == 0 ? current_filtered_out() : !saved)
			return 0;
		__sync_fetch_and_add(&exec_counts.calls, 1);
		if (ret != 0)
			__sync_fetch_and_add(&exec_counts.failed, 1);
		return 0;
	}
	if (ret == 0 ? failed_only : !argv)
		return 0;
	/* A successful exec keeps the PID and the real UID, so the filters
	 * still hold; a failed one was filtered at entry. */
	if (ret == 0 && current_filtered_out())
		return 0;
	e = scratch_get(&scratch);
	if (!e)
		return 0;
	fill_common(e, ret);
	if (ret == 0)
		read_new_image_args(e);
	else
		read_saved_argv(e, argv);
	size = offsetof(struct execsnoop_event, args) + e->args_len;
	if (size > sizeof(*e))
		size = sizeof(*e);
	events_output(ctx, e, size);
	return 0;
}

/* Tier 1: the per-syscall tracepoints (need tracefs). */

SEC("tracepoint/syscalls/sys_enter_execve")
int tp_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter((const char **)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int tp_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter((const char **)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tp_exit_execve(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx, ctx->ret); }

SEC("tracepoint/syscalls/sys_exit_execveat")
int tp_exit_execveat(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx, ctx->ret); }

/* Tier 2: the raw syscall tracepoints (no tracefs, but run for every call). */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];

	if (nr == SYSCALL_NR_EXECVE)
		return on_enter((const char **)PT_REGS_PARM2_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_EXECVEAT)
		return on_enter((const char **)PT_REGS_PARM3_CORE_SYSCALL(regs));
	return 0;
}

SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	/* Only exec calls leave a pending entry; other calls stop here. */
	if (!bpf_map_lookup_elem(&pending_argv, &tid))
		return 0;
	return on_exit(ctx, ctx->args[1]);
}
