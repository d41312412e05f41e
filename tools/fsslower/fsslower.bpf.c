// SPDX-License-Identifier: GPL-2.0
/* fsslower: reads, writes, opens and fsyncs of regular files that take
 * longer than a threshold, timed at the system call. Entry resolves the fd
 * to its struct file through current->files and keeps only files whose
 * superblock belongs to a wanted file-system type; exit times the call and
 * sends the slow ones with the file's name from its dentry. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "syscall_pairs.bpf.h"
#include "files.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "fsslower/fsslower.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_lat_ns = 10000000;
/* The tool's own writes of its output, which could land on a traced file
 * system and feed back into the trace. */
const volatile __u32 self_tgid = 0;
/* The wanted file-system types (file_system_type.name); none: any. */
const volatile __u32 type_count = 0;
const volatile char types[FSSLOWER_MAX_TYPES][FSSLOWER_TYPE_LEN] = {};

#define MODE_TYPE_MASK	0170000
#define MODE_REGULAR	0100000
#define OFFSET_NONE	(-1)
#define OFFSET_FILE_POS (-2) /* read the file position at entry */

struct pending_call {
	__u64 start_ns;
	struct file *file; /* NULL for opens: the file exists only at exit */
	__s64 offset;
	__u32 syscall;
	__u32 op;
};

PENDING_CALLS(struct pending_call, 16384);

EVENT_SCRATCH(struct fsslower_event, scratch);

/* Fills fs_type with the file's file-system type name and says whether the
 * file is a regular file of a wanted type. */
static __always_inline bool file_wanted(struct file *file, char *fs_type)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	umode_t mode = BPF_CORE_READ(inode, i_mode);
	const char *name = BPF_CORE_READ(inode, i_sb, s_type, name);
	int i, j;

	if ((mode & MODE_TYPE_MASK) != MODE_REGULAR)
		return false;
	if (bpf_probe_read_kernel_str(fs_type, FSSLOWER_TYPE_LEN, name) <= 0)
		return false;
	if (!type_count)
		return true;
	for (i = 0; i < FSSLOWER_MAX_TYPES && i < type_count; i++) {
		for (j = 0; j < FSSLOWER_TYPE_LEN; j++) {
			if (fs_type[j] != types[i][j])
				break;
			if (fs_type[j] == '\0')
				return true;
		}
	}
	return false;
}

static __always_inline bool ignored(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == self_tgid || current_filtered_out();
}

static __always_inline int enter_io(long fd, __s64 offset, __u32 syscall, __u32 op)
{
	struct pending_call call = { .offset = offset, .syscall = syscall, .op = op };
	char fs_type[FSSLOWER_TYPE_LEN] = {};
	struct file *file;

	if (ignored())
		return 0;
	file = current_fd_file(fd);
	if (!file || !file_wanted(file, fs_type))
		return 0;
	call.file = file;
	if (offset == OFFSET_FILE_POS)
		call.offset = BPF_CORE_READ(file, f_pos);
	call.start_ns = bpf_ktime_get_ns();
	return pending_call_keep(&pending, &call);
}

static __always_inline int enter_open(__u32 syscall)
{
	struct pending_call call = { .offset = OFFSET_NONE,
				     .syscall = syscall,
				     .op = FSSLOWER_OP_OPEN };

	if (ignored())
		return 0;
	call.start_ns = bpf_ktime_get_ns();
	return pending_call_keep(&pending, &call);
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct pending_call *call;
	struct fsslower_event *e;
	struct dentry *dentry;
	struct file *file;
	__u64 now;
	long len;

	call = bpf_map_lookup_elem(&pending, &tid);
	if (!call)
		return 0;
	now = bpf_ktime_get_ns();
	if (now - call->start_ns < min_lat_ns)
		goto done;
	e = scratch_get(&scratch);
	if (!e)
		goto done;
	file = call->file;
	if (call->op == FSSLOWER_OP_OPEN) {
		/* A failed open has no file, so no file system to judge by. */
		file = ret >= 0 ? current_fd_file(ret) : NULL;
		if (!file || !file_wanted(file, e->fs_type))
			goto done;
	} else if (bpf_probe_read_kernel_str(e->fs_type, sizeof(e->fs_type),
					     BPF_CORE_READ(file, f_inode, i_sb, s_type, name)) <=
		   0) {
		e->fs_type[0] = '\0';
	}
	e->ts_ns = now;
	e->lat_ns = now - call->start_ns;
	e->ret = ret;
	e->offset = call->offset;
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->op = call->op;
	e->syscall = call->syscall;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	dentry = BPF_CORE_READ(file, f_path.dentry);
	len = bpf_probe_read_kernel_str(e->name, sizeof(e->name),
					BPF_CORE_READ(dentry, d_name.name));
	if (len <= 0) {
		e->name[0] = '\0';
		len = 1;
	}
	if (len > FSSLOWER_NAME_MAX)
		len = FSSLOWER_NAME_MAX;
	events_output(ctx, e, offsetof(struct fsslower_event, name) + len);
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* preadv2 and pwritev2 take -1 for "at the file position". */
static __always_inline __s64 pos_or_file_pos(__s64 pos)
{
	return pos == -1 ? OFFSET_FILE_POS : pos;
}

/* Tier 1: the per-syscall tracepoints (need tracefs); only the traced
 * calls pay. */

#define IO_TRACEPOINTS(call, syscall, op, offset)                                                  \
	SEC("tracepoint/syscalls/sys_enter_" #call)                                                \
	int tp_enter_##call(struct trace_event_raw_sys_enter *ctx)                                 \
	{                                                                                          \
		return enter_io(ctx->args[0], offset, syscall, op);                                \
	}                                                                                          \
	SYSCALL_EXIT(call)

#define OPEN_TRACEPOINTS(call, syscall)                                                            \
	SEC("tracepoint/syscalls/sys_enter_" #call)                                                \
	int tp_enter_##call(struct trace_event_raw_sys_enter *ctx) { return enter_open(syscall); } \
	SYSCALL_EXIT(call)

IO_TRACEPOINTS(read, FSSLOWER_READ, FSSLOWER_OP_READ, OFFSET_FILE_POS)
IO_TRACEPOINTS(write, FSSLOWER_WRITE, FSSLOWER_OP_WRITE, OFFSET_FILE_POS)
IO_TRACEPOINTS(readv, FSSLOWER_READV, FSSLOWER_OP_READ, OFFSET_FILE_POS)
IO_TRACEPOINTS(writev, FSSLOWER_WRITEV, FSSLOWER_OP_WRITE, OFFSET_FILE_POS)
IO_TRACEPOINTS(pread64, FSSLOWER_PREAD64, FSSLOWER_OP_READ, (__s64)ctx->args[3])
IO_TRACEPOINTS(pwrite64, FSSLOWER_PWRITE64, FSSLOWER_OP_WRITE, (__s64)ctx->args[3])
IO_TRACEPOINTS(preadv, FSSLOWER_PREADV, FSSLOWER_OP_READ, (__s64)ctx->args[3])
IO_TRACEPOINTS(pwritev, FSSLOWER_PWRITEV, FSSLOWER_OP_WRITE, (__s64)ctx->args[3])
IO_TRACEPOINTS(preadv2, FSSLOWER_PREADV2, FSSLOWER_OP_READ, pos_or_file_pos(ctx->args[3]))
IO_TRACEPOINTS(pwritev2, FSSLOWER_PWRITEV2, FSSLOWER_OP_WRITE, pos_or_file_pos(ctx->args[3]))
IO_TRACEPOINTS(fsync, FSSLOWER_FSYNC, FSSLOWER_OP_FSYNC, OFFSET_NONE)
IO_TRACEPOINTS(fdatasync, FSSLOWER_FDATASYNC, FSSLOWER_OP_FSYNC, OFFSET_NONE)
OPEN_TRACEPOINTS(open, FSSLOWER_OPEN)
OPEN_TRACEPOINTS(openat, FSSLOWER_OPENAT)
OPEN_TRACEPOINTS(openat2, FSSLOWER_OPENAT2)
OPEN_TRACEPOINTS(creat, FSSLOWER_CREAT)

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];

/* The registers are read only for the calls traced. */
#define FD  PT_REGS_PARM1_CORE_SYSCALL(regs)
#define POS ((__s64)PT_REGS_PARM4_CORE_SYSCALL(regs))
	switch (nr) {
	case SYSCALL_NR_READ:
		return enter_io(FD, OFFSET_FILE_POS, FSSLOWER_READ, FSSLOWER_OP_READ);
	case SYSCALL_NR_WRITE:
		return enter_io(FD, OFFSET_FILE_POS, FSSLOWER_WRITE, FSSLOWER_OP_WRITE);
	case SYSCALL_NR_READV:
		return enter_io(FD, OFFSET_FILE_POS, FSSLOWER_READV, FSSLOWER_OP_READ);
	case SYSCALL_NR_WRITEV:
		return enter_io(FD, OFFSET_FILE_POS, FSSLOWER_WRITEV, FSSLOWER_OP_WRITE);
	case SYSCALL_NR_PREAD64:
		return enter_io(FD, POS, FSSLOWER_PREAD64, FSSLOWER_OP_READ);
	case SYSCALL_NR_PWRITE64:
		return enter_io(FD, POS, FSSLOWER_PWRITE64, FSSLOWER_OP_WRITE);
	case SYSCALL_NR_PREADV:
		return enter_io(FD, POS, FSSLOWER_PREADV, FSSLOWER_OP_READ);
	case SYSCALL_NR_PWRITEV:
		return enter_io(FD, POS, FSSLOWER_PWRITEV, FSSLOWER_OP_WRITE);
	case SYSCALL_NR_PREADV2:
		return enter_io(FD, pos_or_file_pos(POS), FSSLOWER_PREADV2, FSSLOWER_OP_READ);
	case SYSCALL_NR_PWRITEV2:
		return enter_io(FD, pos_or_file_pos(POS), FSSLOWER_PWRITEV2, FSSLOWER_OP_WRITE);
	case SYSCALL_NR_FSYNC:
		return enter_io(FD, OFFSET_NONE, FSSLOWER_FSYNC, FSSLOWER_OP_FSYNC);
	case SYSCALL_NR_FDATASYNC:
		return enter_io(FD, OFFSET_NONE, FSSLOWER_FDATASYNC, FSSLOWER_OP_FSYNC);
	case SYSCALL_NR_OPENAT:
		return enter_open(FSSLOWER_OPENAT);
	case SYSCALL_NR_OPENAT2:
		return enter_open(FSSLOWER_OPENAT2);
	}
#undef FD
#undef POS
	/* Outside the switch: -1 on architectures without them. */
	if (nr == SYSCALL_NR_OPEN)
		return enter_open(FSSLOWER_OPEN);
	if (nr == SYSCALL_NR_CREAT)
		return enter_open(FSSLOWER_CREAT);
	return 0;
}

RAW_SYSCALL_EXIT()
