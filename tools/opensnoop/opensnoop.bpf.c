// SPDX-License-Identifier: GPL-2.0
/* opensnoop: open(), openat(), openat2() and creat() with their results.
 * Entry saves the arguments per thread; exit reads the path (the syscall has
 * faulted it in by then) and sends one event sized to the path. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "syscall_pairs.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "opensnoop/opensnoop.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool failed_only = false;
/* corescope export: count the calls (struct opensnoop_counts) and send no
 * events. */
const volatile bool counts_only = false;

struct opensnoop_counts open_counts = {};

struct pending_open {
	const char *path;
	__u64 flags;
	__u32 mode;
	__u32 syscall;
};

PENDING_CALLS(struct pending_open, 16384);

EVENT_SCRATCH(struct opensnoop_event, scratch);

static __always_inline int on_enter(const char *path, __u64 flags, __u32 mode, __u32 syscall)
{
	struct pending_open open = {
		.path = path, .flags = flags, .mode = mode, .syscall = syscall
	};

	if (current_filtered_out())
		return 0;
	return pending_call_keep(&pending, &open);
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct pending_open *open;
	struct opensnoop_event *e;
	long len;

	open = bpf_map_lookup_elem(&pending, &tid);
	if (!open)
		return 0;
	if (counts_only) {
		__sync_fetch_and_add(&open_counts.calls, 1);
		if (ret < 0) {
			__u32 slot = -ret;

			if (slot >= OPENSNOOP_ERRNO_SLOTS)
				slot = 0;
			__sync_fetch_and_add(&open_counts.failed, 1);
			__sync_fetch_and_add(&open_counts.by_errno[slot], 1);
		}
		goto done;
	}
	if (failed_only && ret >= 0)
		goto done;
	e = scratch_get(&scratch);
	if (!e)
		goto done;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ret = ret;
	e->flags = open->flags;
	e->mode = open->mode;
	e->syscall = open->syscall;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	len = bpf_probe_read_user_str(e->path, sizeof(e->path), open->path);
	if (len <= 0) {
		e->path[0] = '\0';
		len = 1;
	}
	if (len > OPENSNOOP_PATH_MAX)
		len = OPENSNOOP_PATH_MAX;
	events_output(ctx, e, offsetof(struct opensnoop_event, path) + len);
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Tier 1: the per-syscall tracepoints (need tracefs). */

SEC("tracepoint/syscalls/sys_enter_open")
int tp_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter((const char *)ctx->args[0], ctx->args[1], ctx->args[2], OPENSNOOP_OPEN);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter((const char *)ctx->args[1], ctx->args[2], ctx->args[3], OPENSNOOP_OPENAT);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int tp_enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]);
	return on_enter((const char *)ctx->args[1], how.flags, how.mode, OPENSNOOP_OPENAT2);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int tp_enter_creat(struct trace_event_raw_sys_enter *ctx)
{
	/* creat(path, mode) is open(path, O_CREAT|O_WRONLY|O_TRUNC, mode) */
	return on_enter((const char *)ctx->args[0], 01 | 0100 | 01000, ctx->args[1],
			OPENSNOOP_CREAT);
}

SYSCALL_EXIT(open)

SYSCALL_EXIT(openat)

SYSCALL_EXIT(openat2)

SYSCALL_EXIT(creat)

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];
	struct open_how how = {};

	if (nr == SYSCALL_NR_OPENAT)
		return on_enter((const char *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				PT_REGS_PARM3_CORE_SYSCALL(regs), PT_REGS_PARM4_CORE_SYSCALL(regs),
				OPENSNOOP_OPENAT);
	if (nr == SYSCALL_NR_OPEN)
		return on_enter((const char *)PT_REGS_PARM1_CORE_SYSCALL(regs),
				PT_REGS_PARM2_CORE_SYSCALL(regs), PT_REGS_PARM3_CORE_SYSCALL(regs),
				OPENSNOOP_OPEN);
	if (nr == SYSCALL_NR_OPENAT2) {
		bpf_probe_read_user(&how, sizeof(how), (void *)PT_REGS_PARM3_CORE_SYSCALL(regs));
		return on_enter((const char *)PT_REGS_PARM2_CORE_SYSCALL(regs), how.flags, how.mode,
				OPENSNOOP_OPENAT2);
	}
	if (nr == SYSCALL_NR_CREAT)
		return on_enter((const char *)PT_REGS_PARM1_CORE_SYSCALL(regs), 01 | 0100 | 01000,
				PT_REGS_PARM2_CORE_SYSCALL(regs), OPENSNOOP_CREAT);
	return 0;
}

RAW_SYSCALL_EXIT()
