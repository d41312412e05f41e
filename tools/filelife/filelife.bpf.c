// SPDX-License-Identifier: GPL-2.0
/* filelife: files created and deleted while it runs. An open, openat,
 * openat2 or creat with O_CREAT that created its file (FMODE_CREATED on the
 * file the new descriptor holds) sends the file's path, inode and device;
 * an unlink or unlinkat that succeeded sends its name argument and, for a
 * relative name, the path of the directory it is taken from. User space
 * pairs them by path and prints the age. Entry saves the arguments per
 * thread; exit, which has the result, reports. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "syscall_pairs.bpf.h"
#include "files.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "filelife/filelife.h"

char LICENSE[] SEC("license") = "GPL";

#define O_CREAT	     0100
#define AT_FDCWD     -100
#define AT_REMOVEDIR 0x200
/* include/linux/fs.h: set on the file by the open that created it (4.19+;
 * a macro, not in BTF). */
#define FMODE_CREATED (1U << 20)

struct pending_call {
	const char *name; /* unlink's argument; NULL for the opens */
	__s32 dirfd;
	__u32 call;
};

PENDING_CALLS(struct pending_call, 16384);

EVENT_SCRATCH(struct filelife_event, scratch);

static __always_inline int on_enter(__u32 call, long dirfd, const char *name)
{
	struct pending_call c = { .name = name, .dirfd = dirfd, .call = call };

	if (current_filtered_out())
		return 0;
	return pending_call_keep(&pending, &c);
}

/* An open: only one that may create its file is kept. */
static __always_inline int on_enter_open(__u32 call, __u64 flags)
{
	if (!(flags & O_CREAT))
		return 0;
	return on_enter(call, AT_FDCWD, NULL);
}

/* An unlink: unlinkat's AT_REMOVEDIR (rmdir) is not kept. */
static __always_inline int on_enter_unlink(__u32 call, long dirfd, const char *name, __u64 flags)
{
	if (flags & AT_REMOVEDIR)
		return 0;
	return on_enter(call, dirfd, name);
}

static __always_inline struct filelife_event *event_begin(struct pending_call *c, __u32 kind)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct filelife_event *e = scratch_get(&scratch);

	if (!e)
		return NULL;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->kind = kind;
	e->call = c->call;
	e->dirfd = c->dirfd;
	e->ino = 0;
	e->dev = 0;
	e->name_len = 0;
	e->path_len = 0;
	e->path_complete = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

static __always_inline void send_created(void *ctx, struct pending_call *c, long fd)
{
	struct filelife_event *e;
	struct file *file;
	struct inode *inode;
	bool complete = false;

	file = current_fd_file(fd);
	if (!file || !(BPF_CORE_READ(file, f_mode) & FMODE_CREATED))
		return;
	e = event_begin(c, FILELIFE_CREATE);
	if (!e)
		return;
	inode = BPF_CORE_READ(file, f_inode);
	e->ino = BPF_CORE_READ(inode, i_ino);
	e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	e->path_len = file_path(file, e->path, &complete);
	e->path_complete = complete;
	events_output_prefix(ctx, e, offsetof(struct filelife_event, path) + e->path_len,
			     sizeof(*e));
}

static __always_inline void send_deleted(void *ctx, struct pending_call *c)
{
	struct filelife_event *e;
	bool complete = false;
	long len;

	e = event_begin(c, FILELIFE_DELETE);
	if (!e)
		return;
	len = bpf_probe_read_user_str(e->name, sizeof(e->name), c->name);
	if (len <= 0)
		return;
	e->name_len = len;
	if (e->name[0] != '/')
		e->path_len = dirfd_path(c->dirfd, e->path, &complete);
	e->path_complete = complete;
	events_output_prefix(ctx, e, offsetof(struct filelife_event, name) + len, sizeof(*e));
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_call *c;

	c = bpf_map_lookup_elem(&pending, &tid);
	if (!c)
		return 0;
	if (ret >= 0) {
		if (c->name)
			send_deleted(ctx, c);
		else
			send_created(ctx, c, ret);
	}
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Tier 1: the per-call tracepoints (need tracefs). */

SEC("tracepoint/syscalls/sys_enter_open")
int tp_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter_open(FILELIFE_OPEN, ctx->args[1]);
}
SEC("tracepoint/syscalls/sys_enter_openat")
int tp_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter_open(FILELIFE_OPENAT, ctx->args[2]);
}
SEC("tracepoint/syscalls/sys_enter_openat2")
int tp_enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]);
	return on_enter_open(FILELIFE_OPENAT2, how.flags);
}
SEC("tracepoint/syscalls/sys_enter_creat")
int tp_enter_creat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter_open(FILELIFE_CREAT, O_CREAT);
}
SEC("tracepoint/syscalls/sys_enter_unlink")
int tp_enter_unlink(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter_unlink(FILELIFE_UNLINK, AT_FDCWD, (const char *)ctx->args[0], 0);
}
SEC("tracepoint/syscalls/sys_enter_unlinkat")
int tp_enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter_unlink(FILELIFE_UNLINKAT, ctx->args[0], (const char *)ctx->args[1],
			       ctx->args[2]);
}

SYSCALL_EXIT(open)
SYSCALL_EXIT(openat)
SYSCALL_EXIT(openat2)
SYSCALL_EXIT(creat)
SYSCALL_EXIT(unlink)
SYSCALL_EXIT(unlinkat)

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call. A call this architecture lacks has number -1. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];
	struct open_how how = {};

	if (nr == SYSCALL_NR_OPENAT)
		return on_enter_open(FILELIFE_OPENAT, PT_REGS_PARM3_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_UNLINKAT)
		return on_enter_unlink(FILELIFE_UNLINKAT, PT_REGS_PARM1_CORE_SYSCALL(regs),
				       (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				       PT_REGS_PARM3_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_OPEN)
		return on_enter_open(FILELIFE_OPEN, PT_REGS_PARM2_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_UNLINK)
		return on_enter_unlink(FILELIFE_UNLINK, AT_FDCWD,
				       (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs), 0);
	if (nr == SYSCALL_NR_CREAT)
		return on_enter_open(FILELIFE_CREAT, O_CREAT);
	if (nr == SYSCALL_NR_OPENAT2) {
		bpf_probe_read_user(&how, sizeof(how), (void *)PT_REGS_PARM3_CORE_SYSCALL(regs));
		return on_enter_open(FILELIFE_OPENAT2, how.flags);
	}
	return 0;
}

RAW_SYSCALL_EXIT()
