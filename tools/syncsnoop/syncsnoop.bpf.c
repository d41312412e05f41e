// SPDX-License-Identifier: GPL-2.0
/* syncsnoop: sync(), fsync(), fdatasync(), syncfs(), sync_file_range() and
 * msync(MS_SYNC), with the file, the latency and the result. Entry saves the
 * call and its file per thread; exit sends one event sized to the path. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "syscall_pairs.bpf.h"
#include "files.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "syncsnoop/syncsnoop.h"

char LICENSE[] SEC("license") = "GPL";

#define MS_SYNC 4

const volatile bool failed_only = false;
const volatile __u64 min_lat_ns = 0; /* --min */

struct pending_sync {
	__u64 start_ns;
	__u64 flags;
	struct file *file;
	__s32 fd;
	__u32 call;
};

PENDING_CALLS(struct pending_sync, 16384);

EVENT_SCRATCH(struct syncsnoop_event, scratch);

static __always_inline int on_enter(__u32 call, long fd, __u64 flags)
{
	struct pending_sync sync = { .call = call, .fd = fd, .flags = flags };

	if (current_filtered_out())
		return 0;
	/* msync without MS_SYNC schedules the writeback and returns at once. */
	if (call == SYNCSNOOP_MSYNC && !(flags & MS_SYNC))
		return 0;
	if (fd >= 0)
		sync.file = current_fd_file(fd);
	sync.start_ns = bpf_ktime_get_ns();
	return pending_call_keep(&pending, &sync);
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct pending_sync *sync;
	struct syncsnoop_event *e;
	bool complete = false;
	__u32 len = 0;

	sync = bpf_map_lookup_elem(&pending, &tid);
	if (!sync)
		return 0;
	if (failed_only && ret >= 0)
		goto done;
	if (bpf_ktime_get_ns() - sync->start_ns < min_lat_ns)
		goto done;
	e = scratch_get(&scratch);
	if (!e)
		goto done;
	e->ts_ns = bpf_ktime_get_ns();
	e->lat_ns = e->ts_ns - sync->start_ns;
	e->ret = ret;
	e->flags = sync->flags;
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->call = sync->call;
	e->fd = sync->fd;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* The call held its own reference on the file until it returned. */
	if (sync->file)
		len = file_path(sync->file, e->path, &complete);
	e->path_complete = complete;
	e->path_len = len;
	events_output_prefix(ctx, e, offsetof(struct syncsnoop_event, path) + len, sizeof(*e));
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Tier 1: the per-call tracepoints (need tracefs). */

SEC("tracepoint/syscalls/sys_enter_sync")
int tp_enter_sync(struct trace_event_raw_sys_enter *ctx) { return on_enter(SYNCSNOOP_SYNC, -1, 0); }
SEC("tracepoint/syscalls/sys_enter_fsync")
int tp_enter_fsync(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(SYNCSNOOP_FSYNC, ctx->args[0], 0);
}
SEC("tracepoint/syscalls/sys_enter_fdatasync")
int tp_enter_fdatasync(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(SYNCSNOOP_FDATASYNC, ctx->args[0], 0);
}
SEC("tracepoint/syscalls/sys_enter_syncfs")
int tp_enter_syncfs(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(SYNCSNOOP_SYNCFS, ctx->args[0], 0);
}
SEC("tracepoint/syscalls/sys_enter_sync_file_range")
int tp_enter_sync_file_range(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(SYNCSNOOP_SYNC_FILE_RANGE, ctx->args[0], ctx->args[3]);
}
SEC("tracepoint/syscalls/sys_enter_msync")
int tp_enter_msync(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(SYNCSNOOP_MSYNC, -1, ctx->args[2]);
}

SYSCALL_EXIT(sync)
SYSCALL_EXIT(fsync)
SYSCALL_EXIT(fdatasync)
SYSCALL_EXIT(syncfs)
SYSCALL_EXIT(sync_file_range)
SYSCALL_EXIT(msync)

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];

	if (nr == SYSCALL_NR_SYNC)
		return on_enter(SYNCSNOOP_SYNC, -1, 0);
	if (nr == SYSCALL_NR_FSYNC)
		return on_enter(SYNCSNOOP_FSYNC, PT_REGS_PARM1_CORE_SYSCALL(regs), 0);
	if (nr == SYSCALL_NR_FDATASYNC)
		return on_enter(SYNCSNOOP_FDATASYNC, PT_REGS_PARM1_CORE_SYSCALL(regs), 0);
	if (nr == SYSCALL_NR_SYNCFS)
		return on_enter(SYNCSNOOP_SYNCFS, PT_REGS_PARM1_CORE_SYSCALL(regs), 0);
	if (nr == SYSCALL_NR_SYNC_FILE_RANGE)
		return on_enter(SYNCSNOOP_SYNC_FILE_RANGE, PT_REGS_PARM1_CORE_SYSCALL(regs),
				PT_REGS_PARM4_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_MSYNC)
		return on_enter(SYNCSNOOP_MSYNC, -1, PT_REGS_PARM3_CORE_SYSCALL(regs));
	return 0;
}

RAW_SYSCALL_EXIT()
