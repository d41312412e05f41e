// SPDX-License-Identifier: GPL-2.0
/* statsnoop: the stat family (stat, lstat, fstat, newfstatat, statx, statfs,
 * fstatfs) and the access family (access, faccessat, faccessat2), with the
 * path and the result. Entry saves the arguments per thread; exit reads the
 * path (the call has faulted it in by then), or for a call on a descriptor
 * the path of its file, and sends one event sized to it. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "syscall_pairs.bpf.h"
#include "files.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "statsnoop/statsnoop.h"

char LICENSE[] SEC("license") = "GPL";

#define AT_FDCWD	    -100
#define AT_SYMLINK_NOFOLLOW 0x100

const volatile bool failed_only = false;

struct pending_stat {
	__u64 start_ns;
	const char *path; /* NULL for fstat and fstatfs */
	__s32 fd;
	__u32 flags;
	__u32 mask;
	__u32 call;
};

PENDING_CALLS(struct pending_stat, 16384);

EVENT_SCRATCH(struct statsnoop_event, scratch);

static __always_inline int on_enter(__u32 call, long fd, const char *path, __u64 flags, __u64 mask)
{
	struct pending_stat stat = {
		.path = path, .fd = fd, .flags = flags, .mask = mask, .call = call
	};

	if (current_filtered_out())
		return 0;
	stat.start_ns = bpf_ktime_get_ns();
	return pending_call_keep(&pending, &stat);
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct pending_stat *stat;
	struct statsnoop_event *e;
	struct file *file = NULL;
	bool complete = false;
	long len = 0;

	stat = bpf_map_lookup_elem(&pending, &tid);
	if (!stat)
		return 0;
	if (failed_only && ret >= 0)
		goto done;
	e = scratch_get(&scratch);
	if (!e)
		goto done;
	e->ts_ns = bpf_ktime_get_ns();
	e->lat_ns = e->ts_ns - stat->start_ns;
	e->ret = ret;
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->call = stat->call;
	e->fd = stat->fd;
	e->flags = stat->flags;
	e->mask = stat->mask;
	e->path_kind = STATSNOOP_PATH_NONE;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (stat->path) {
		len = bpf_probe_read_user_str(e->path, STATSNOOP_PATH_MAX, stat->path);
		if (len > 1)
			e->path_kind = STATSNOOP_PATH_ARGUMENT;
	}
	/* fstat, fstatfs, and an empty path on a descriptor (AT_EMPTY_PATH,
	 * as the C library's fstat() calls newfstatat): the file's own path. */
	if (e->path_kind == STATSNOOP_PATH_NONE && stat->fd >= 0)
		file = current_fd_file(stat->fd);
	if (file) {
		len = file_path(file, e->path, &complete);
		e->path_kind = STATSNOOP_PATH_COMPONENTS;
	} else if (e->path_kind == STATSNOOP_PATH_NONE) {
		len = 0;
	}
	if (len < 0)
		len = 0;
	e->path_complete = complete;
	e->path_len = len;
	events_output_prefix(ctx, e, offsetof(struct statsnoop_event, path) + len, sizeof(*e));
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Tier 1: the per-call tracepoints (need tracefs). stat, lstat and access
 * are x86_64's own (newstat, newlstat): arm64 has only the *at forms. */

SEC("tracepoint/syscalls/sys_enter_newstat")
int tp_enter_newstat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(STATSNOOP_STAT, AT_FDCWD, (const char *)ctx->args[0], 0, 0);
}
SEC("tracepoint/syscalls/sys_enter_newlstat")
int tp_enter_newlstat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(STATSNOOP_LSTAT, AT_FDCWD, (const char *)ctx->args[0], AT_SYMLINK_NOFOLLOW,
			0);
}
SEC("tracepoint/syscalls/sys_enter_newfstat")
int tp_enter_newfstat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(STATSNOOP_FSTAT, ctx->args[0], NULL, 0, 0);
}
SEC("tracepoint/syscalls/sys_enter_newfstatat")
int tp_enter_newfstatat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(STATSNOOP_NEWFSTATAT, ctx->args[0], (const char *)ctx->args[1],
			ctx->args[3], 0);
}
SEC("tracepoint/syscalls/sys_enter_statx")
int tp_enter_statx(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(STATSNOOP_STATX, ctx->args[0], (const char *)ctx->args[1], ctx->args[2],
			ctx->args[3]);
}
SEC("tracepoint/syscalls/sys_enter_statfs")
int tp_enter_statfs(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(STATSNOOP_STATFS, AT_FDCWD, (const char *)ctx->args[0], 0, 0);
}
SEC("tracepoint/syscalls/sys_enter_fstatfs")
int tp_enter_fstatfs(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(STATSNOOP_FSTATFS, ctx->args[0], NULL, 0, 0);
}
SEC("tracepoint/syscalls/sys_enter_access")
int tp_enter_access(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(STATSNOOP_ACCESS, AT_FDCWD, (const char *)ctx->args[0], 0, ctx->args[1]);
}
SEC("tracepoint/syscalls/sys_enter_faccessat")
int tp_enter_faccessat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(STATSNOOP_FACCESSAT, ctx->args[0], (const char *)ctx->args[1], 0,
			ctx->args[2]);
}
SEC("tracepoint/syscalls/sys_enter_faccessat2")
int tp_enter_faccessat2(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(STATSNOOP_FACCESSAT2, ctx->args[0], (const char *)ctx->args[1],
			ctx->args[3], ctx->args[2]);
}

SYSCALL_EXIT(newstat)
SYSCALL_EXIT(newlstat)
SYSCALL_EXIT(newfstat)
SYSCALL_EXIT(newfstatat)
SYSCALL_EXIT(statx)
SYSCALL_EXIT(statfs)
SYSCALL_EXIT(fstatfs)
SYSCALL_EXIT(access)
SYSCALL_EXIT(faccessat)
SYSCALL_EXIT(faccessat2)

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call. A call this architecture lacks has number -1, which no
 * call has. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];

	if (nr == SYSCALL_NR_NEWFSTATAT)
		return on_enter(STATSNOOP_NEWFSTATAT, PT_REGS_PARM1_CORE_SYSCALL(regs),
				(const char *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				PT_REGS_PARM4_CORE_SYSCALL(regs), 0);
	if (nr == SYSCALL_NR_FSTAT)
		return on_enter(STATSNOOP_FSTAT, PT_REGS_PARM1_CORE_SYSCALL(regs), NULL, 0, 0);
	if (nr == SYSCALL_NR_STATX)
		return on_enter(STATSNOOP_STATX, PT_REGS_PARM1_CORE_SYSCALL(regs),
				(const char *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				PT_REGS_PARM3_CORE_SYSCALL(regs), PT_REGS_PARM4_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_STAT)
		return on_enter(STATSNOOP_STAT, AT_FDCWD,
				(const char *)PT_REGS_PARM1_CORE_SYSCALL(regs), 0, 0);
	if (nr == SYSCALL_NR_LSTAT)
		return on_enter(STATSNOOP_LSTAT, AT_FDCWD,
				(const char *)PT_REGS_PARM1_CORE_SYSCALL(regs), AT_SYMLINK_NOFOLLOW,
				0);
	if (nr == SYSCALL_NR_STATFS)
		return on_enter(STATSNOOP_STATFS, AT_FDCWD,
				(const char *)PT_REGS_PARM1_CORE_SYSCALL(regs), 0, 0);
	if (nr == SYSCALL_NR_FSTATFS)
		return on_enter(STATSNOOP_FSTATFS, PT_REGS_PARM1_CORE_SYSCALL(regs), NULL, 0, 0);
	if (nr == SYSCALL_NR_ACCESS)
		return on_enter(STATSNOOP_ACCESS, AT_FDCWD,
				(const char *)PT_REGS_PARM1_CORE_SYSCALL(regs), 0,
				PT_REGS_PARM2_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_FACCESSAT)
		return on_enter(STATSNOOP_FACCESSAT, PT_REGS_PARM1_CORE_SYSCALL(regs),
				(const char *)PT_REGS_PARM2_CORE_SYSCALL(regs), 0,
				PT_REGS_PARM3_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_FACCESSAT2)
		return on_enter(STATSNOOP_FACCESSAT2, PT_REGS_PARM1_CORE_SYSCALL(regs),
				(const char *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				PT_REGS_PARM4_CORE_SYSCALL(regs), PT_REGS_PARM3_CORE_SYSCALL(regs));
	return 0;
}

RAW_SYSCALL_EXIT()
