// SPDX-License-Identifier: GPL-2.0
/* filegone: files deleted or renamed away. unlink, unlinkat, rmdir, rename,
 * renameat and renameat2, with the names as the caller gave them. Entry
 * saves the arguments per thread; exit reads the names (the call has
 * faulted them in by then) and sends one event for a call that succeeded
 * (-x: for one that failed). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "syscall_pairs.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "filegone/filegone.h"

char LICENSE[] SEC("license") = "GPL";

#define AT_FDCWD -100

const volatile bool failed_only = false;

struct pending_call {
	const char *name;
	const char *new_name; /* NULL for the deletes */
	__s32 dirfd;
	__s32 newdirfd;
	__u32 flags;
	__u32 call;
};

PENDING_CALLS(struct pending_call, 16384);

EVENT_SCRATCH(struct filegone_event, scratch);

static __always_inline int on_enter(__u32 call, long dirfd, const char *name, long newdirfd,
				    const char *new_name, __u64 flags)
{
	struct pending_call c = { .name = name,
				  .new_name = new_name,
				  .dirfd = dirfd,
				  .newdirfd = newdirfd,
				  .flags = flags,
				  .call = call };

	if (current_filtered_out())
		return 0;
	return pending_call_keep(&pending, &c);
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct pending_call *c;
	struct filegone_event *e;
	long len;

	c = bpf_map_lookup_elem(&pending, &tid);
	if (!c)
		return 0;
	if (failed_only ? ret >= 0 : ret < 0)
		goto done;
	e = scratch_get(&scratch);
	if (!e)
		goto done;
	e->ts_ns = bpf_ktime_get_ns();
	e->ret = ret;
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->call = c->call;
	e->dirfd = c->dirfd;
	e->newdirfd = c->newdirfd;
	e->flags = c->flags;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	len = bpf_probe_read_user_str(e->name, sizeof(e->name), c->name);
	e->name_len = len > 0 ? len : 0;
	len = 0;
	if (c->new_name)
		len = bpf_probe_read_user_str(e->new_name, sizeof(e->new_name), c->new_name);
	if (len < 0)
		len = 0;
	e->new_len = len;
	events_output_prefix(ctx, e, offsetof(struct filegone_event, new_name) + len, sizeof(*e));
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Tier 1: the per-call tracepoints (need tracefs). A program reads only
 * the arguments its call has. */

SEC("tracepoint/syscalls/sys_enter_unlink")
int tp_enter_unlink(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(FILEGONE_UNLINK, AT_FDCWD, (const char *)ctx->args[0], AT_FDCWD, NULL, 0);
}
SEC("tracepoint/syscalls/sys_enter_unlinkat")
int tp_enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(FILEGONE_UNLINKAT, ctx->args[0], (const char *)ctx->args[1], AT_FDCWD, NULL,
			ctx->args[2]);
}
SEC("tracepoint/syscalls/sys_enter_rmdir")
int tp_enter_rmdir(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(FILEGONE_RMDIR, AT_FDCWD, (const char *)ctx->args[0], AT_FDCWD, NULL, 0);
}
SEC("tracepoint/syscalls/sys_enter_rename")
int tp_enter_rename(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(FILEGONE_RENAME, AT_FDCWD, (const char *)ctx->args[0], AT_FDCWD,
			(const char *)ctx->args[1], 0);
}
SEC("tracepoint/syscalls/sys_enter_renameat")
int tp_enter_renameat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(FILEGONE_RENAMEAT, ctx->args[0], (const char *)ctx->args[1], ctx->args[2],
			(const char *)ctx->args[3], 0);
}
SEC("tracepoint/syscalls/sys_enter_renameat2")
int tp_enter_renameat2(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(FILEGONE_RENAMEAT2, ctx->args[0], (const char *)ctx->args[1], ctx->args[2],
			(const char *)ctx->args[3], ctx->args[4]);
}

SYSCALL_EXIT(unlink)
SYSCALL_EXIT(unlinkat)
SYSCALL_EXIT(rmdir)
SYSCALL_EXIT(rename)
SYSCALL_EXIT(renameat)
SYSCALL_EXIT(renameat2)

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call. A call this architecture lacks has number -1. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];

	if (nr == SYSCALL_NR_UNLINKAT)
		return on_enter(FILEGONE_UNLINKAT, PT_REGS_PARM1_CORE_SYSCALL(regs),
				(const char *)PT_REGS_PARM2_CORE_SYSCALL(regs), AT_FDCWD, NULL,
				PT_REGS_PARM3_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_UNLINK)
		return on_enter(FILEGONE_UNLINK, AT_FDCWD,
				(const char *)PT_REGS_PARM1_CORE_SYSCALL(regs), AT_FDCWD, NULL, 0);
	if (nr == SYSCALL_NR_RENAMEAT2)
		return on_enter(FILEGONE_RENAMEAT2, PT_REGS_PARM1_CORE_SYSCALL(regs),
				(const char *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				PT_REGS_PARM3_CORE_SYSCALL(regs),
				(const char *)PT_REGS_PARM4_CORE_SYSCALL(regs),
				PT_REGS_PARM5_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_RENAME)
		return on_enter(FILEGONE_RENAME, AT_FDCWD,
				(const char *)PT_REGS_PARM1_CORE_SYSCALL(regs), AT_FDCWD,
				(const char *)PT_REGS_PARM2_CORE_SYSCALL(regs), 0);
	if (nr == SYSCALL_NR_RENAMEAT)
		return on_enter(FILEGONE_RENAMEAT, PT_REGS_PARM1_CORE_SYSCALL(regs),
				(const char *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				PT_REGS_PARM3_CORE_SYSCALL(regs),
				(const char *)PT_REGS_PARM4_CORE_SYSCALL(regs), 0);
	if (nr == SYSCALL_NR_RMDIR)
		return on_enter(FILEGONE_RMDIR, AT_FDCWD,
				(const char *)PT_REGS_PARM1_CORE_SYSCALL(regs), AT_FDCWD, NULL, 0);
	return 0;
}

RAW_SYSCALL_EXIT()
