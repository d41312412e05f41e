/* For the tools that time file-system calls on files of wanted file-system
 * types (fsslower, fsdist): reads, writes, opens and fsyncs, timed from the
 * system call's entry to its exit.
 *
 * A read, write or fsync resolves its descriptor at entry
 * (files.bpf.h) and is kept only for a regular file whose superblock's
 * file_system_type.name is one of fs_calls_types (any, when
 * fs_calls_type_count is 0). An open has no file before it returns: its
 * entry keeps the start for every thread that passes the filters, and its
 * exit judges the new descriptor's file (a failed open has none, so it is
 * never counted).
 *
 * At exit, the tool's fs_call_timed(lat_ns) says whether the call
 * interests it at all (fsslower: over its threshold), before the open's
 * file is looked up; then fs_call_done(ctx, call, file, ret, now_ns,
 * lat_ns) gets every wanted call. The tool defines both and then writes
 * FS_CALLS_PROGRAMS(): the calls' own tracepoints (tp_enter_CALL,
 * tp_exit_CALL; need tracefs) and the raw sys_enter and sys_exit
 * (raw_enter, raw_exit), which run for every system call and stop after a
 * switch for the others. User space attaches them with
 * common/fs_types.h's fs_calls_step(). */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "files.bpf.h"
#include "filters.bpf.h"
#include "fs_calls.h"
#include "syscall_nr.bpf.h"
#include "syscall_pairs.bpf.h"

/* The tool's own writes of its output, which could land on a traced file
 * system and feed back into the trace. */
const volatile __u32 fs_calls_self_tgid = 0;
/* The wanted file-system types (file_system_type.name); none: any. */
const volatile __u32 fs_calls_type_count = 0;
const volatile char fs_calls_types[FS_CALLS_MAX_TYPES][FS_CALLS_TYPE_LEN] = {};

#define FS_CALLS_MODE_TYPE    0170000
#define FS_CALLS_MODE_REGULAR 0100000
#define FS_CALLS_OFFSET_NONE  (-1)
#define FS_CALLS_FILE_POS     (-2) /* read the file position at entry */

struct fs_call {
	__u64 start_ns;
	struct file *file; /* NULL for opens until their exit */
	__s64 offset;	   /* the file offset at entry; -1 for opens and fsyncs */
	__u32 syscall;	   /* enum fs_call_syscall */
	__u32 op;	   /* enum fs_call_op */
};

PENDING_CALLS(struct fs_call, 16384);

static __always_inline bool fs_call_timed(__u64 lat_ns);
static __always_inline void fs_call_done(void *ctx, const struct fs_call *call, struct file *file,
					 long ret, __u64 now_ns, __u64 lat_ns);

/* Whether the file is a regular file of a wanted type. */
static __always_inline bool fs_file_wanted(struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	umode_t mode = BPF_CORE_READ(inode, i_mode);
	const char *name = BPF_CORE_READ(inode, i_sb, s_type, name);
	char fs_type[FS_CALLS_TYPE_LEN] = {};
	int i, j;

	if ((mode & FS_CALLS_MODE_TYPE) != FS_CALLS_MODE_REGULAR)
		return false;
	if (!fs_calls_type_count)
		return true;
	if (bpf_probe_read_kernel_str(fs_type, sizeof(fs_type), name) <= 0)
		return false;
	for (i = 0; i < FS_CALLS_MAX_TYPES && i < fs_calls_type_count; i++) {
		for (j = 0; j < FS_CALLS_TYPE_LEN; j++) {
			if (fs_type[j] != fs_calls_types[i][j])
				break;
			if (fs_type[j] == '\0')
				return true;
		}
	}
	return false;
}

/* The file's file-system type name into fs_type[FS_CALLS_TYPE_LEN]. */
static __always_inline void fs_file_type(struct file *file, char *fs_type)
{
	if (bpf_probe_read_kernel_str(fs_type, FS_CALLS_TYPE_LEN,
				      BPF_CORE_READ(file, f_inode, i_sb, s_type, name)) <= 0)
		fs_type[0] = '\0';
}

static __always_inline bool fs_calls_ignored(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == fs_calls_self_tgid || current_filtered_out();
}

static __always_inline int fs_calls_enter_io(long fd, __s64 offset, __u32 syscall, __u32 op)
{
	struct fs_call call = { .offset = offset, .syscall = syscall, .op = op };
	struct file *file;

	if (fs_calls_ignored())
		return 0;
	file = current_fd_file(fd);
	if (!file || !fs_file_wanted(file))
		return 0;
	call.file = file;
	if (offset == FS_CALLS_FILE_POS)
		call.offset = BPF_CORE_READ(file, f_pos);
	call.start_ns = bpf_ktime_get_ns();
	return pending_call_keep(&pending, &call);
}

static __always_inline int fs_calls_enter_open(__u32 syscall)
{
	struct fs_call call = { .offset = FS_CALLS_OFFSET_NONE,
				.syscall = syscall,
				.op = FS_CALL_OP_OPEN };

	if (fs_calls_ignored())
		return 0;
	call.start_ns = bpf_ktime_get_ns();
	return pending_call_keep(&pending, &call);
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct fs_call *call;
	struct file *file;
	__u64 now;

	call = bpf_map_lookup_elem(&pending, &tid);
	if (!call)
		return 0;
	now = bpf_ktime_get_ns();
	if (!fs_call_timed(now - call->start_ns))
		goto done;
	file = call->file;
	if (call->op == FS_CALL_OP_OPEN) {
		/* A failed open has no file, so no file system to judge by. */
		file = ret >= 0 ? current_fd_file(ret) : NULL;
		if (!file || !fs_file_wanted(file))
			goto done;
	}
	fs_call_done(ctx, call, file, ret, now, now - call->start_ns);
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* preadv2 and pwritev2 take -1 for "at the file position". */
static __always_inline __s64 fs_calls_pos_or_file_pos(__s64 pos)
{
	return pos == -1 ? FS_CALLS_FILE_POS : pos;
}

#define FS_CALLS_IO(call, syscall, op, offset)                                                     \
	SEC("tracepoint/syscalls/sys_enter_" #call)                                                \
	int tp_enter_##call(struct trace_event_raw_sys_enter *ctx)                                 \
	{                                                                                          \
		return fs_calls_enter_io(ctx->args[0], offset, syscall, op);                       \
	}                                                                                          \
	SYSCALL_EXIT(call)

#define FS_CALLS_OPEN(call, syscall)                                                               \
	SEC("tracepoint/syscalls/sys_enter_" #call)                                                \
	int tp_enter_##call(struct trace_event_raw_sys_enter *ctx)                                 \
	{                                                                                          \
		return fs_calls_enter_open(syscall);                                               \
	}                                                                                          \
	SYSCALL_EXIT(call)

/* The raw tier's entry: the registers are read only for the calls traced. */
static __always_inline int fs_calls_raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];

#define FD  PT_REGS_PARM1_CORE_SYSCALL(regs)
#define POS ((__s64)PT_REGS_PARM4_CORE_SYSCALL(regs))
	switch (nr) {
	case SYSCALL_NR_READ:
		return fs_calls_enter_io(FD, FS_CALLS_FILE_POS, FS_CALL_READ, FS_CALL_OP_READ);
	case SYSCALL_NR_WRITE:
		return fs_calls_enter_io(FD, FS_CALLS_FILE_POS, FS_CALL_WRITE, FS_CALL_OP_WRITE);
	case SYSCALL_NR_READV:
		return fs_calls_enter_io(FD, FS_CALLS_FILE_POS, FS_CALL_READV, FS_CALL_OP_READ);
	case SYSCALL_NR_WRITEV:
		return fs_calls_enter_io(FD, FS_CALLS_FILE_POS, FS_CALL_WRITEV, FS_CALL_OP_WRITE);
	case SYSCALL_NR_PREAD64:
		return fs_calls_enter_io(FD, POS, FS_CALL_PREAD64, FS_CALL_OP_READ);
	case SYSCALL_NR_PWRITE64:
		return fs_calls_enter_io(FD, POS, FS_CALL_PWRITE64, FS_CALL_OP_WRITE);
	case SYSCALL_NR_PREADV:
		return fs_calls_enter_io(FD, POS, FS_CALL_PREADV, FS_CALL_OP_READ);
	case SYSCALL_NR_PWRITEV:
		return fs_calls_enter_io(FD, POS, FS_CALL_PWRITEV, FS_CALL_OP_WRITE);
	case SYSCALL_NR_PREADV2:
		return fs_calls_enter_io(FD, fs_calls_pos_or_file_pos(POS), FS_CALL_PREADV2,
					 FS_CALL_OP_READ);
	case SYSCALL_NR_PWRITEV2:
		return fs_calls_enter_io(FD, fs_calls_pos_or_file_pos(POS), FS_CALL_PWRITEV2,
					 FS_CALL_OP_WRITE);
	case SYSCALL_NR_FSYNC:
		return fs_calls_enter_io(FD, FS_CALLS_OFFSET_NONE, FS_CALL_FSYNC, FS_CALL_OP_FSYNC);
	case SYSCALL_NR_FDATASYNC:
		return fs_calls_enter_io(FD, FS_CALLS_OFFSET_NONE, FS_CALL_FDATASYNC,
					 FS_CALL_OP_FSYNC);
	case SYSCALL_NR_OPENAT:
		return fs_calls_enter_open(FS_CALL_OPENAT);
	case SYSCALL_NR_OPENAT2:
		return fs_calls_enter_open(FS_CALL_OPENAT2);
	}
#undef FD
#undef POS
	/* Outside the switch: -1 on architectures without them. */
	if (nr == SYSCALL_NR_OPEN)
		return fs_calls_enter_open(FS_CALL_OPEN);
	if (nr == SYSCALL_NR_CREAT)
		return fs_calls_enter_open(FS_CALL_CREAT);
	return 0;
}

#define FS_CALLS_PROGRAMS()                                                                        \
	FS_CALLS_IO(read, FS_CALL_READ, FS_CALL_OP_READ, FS_CALLS_FILE_POS)                        \
	FS_CALLS_IO(write, FS_CALL_WRITE, FS_CALL_OP_WRITE, FS_CALLS_FILE_POS)                     \
	FS_CALLS_IO(readv, FS_CALL_READV, FS_CALL_OP_READ, FS_CALLS_FILE_POS)                      \
	FS_CALLS_IO(writev, FS_CALL_WRITEV, FS_CALL_OP_WRITE, FS_CALLS_FILE_POS)                   \
	FS_CALLS_IO(pread64, FS_CALL_PREAD64, FS_CALL_OP_READ, (__s64)ctx->args[3])                \
	FS_CALLS_IO(pwrite64, FS_CALL_PWRITE64, FS_CALL_OP_WRITE, (__s64)ctx->args[3])             \
	FS_CALLS_IO(preadv, FS_CALL_PREADV, FS_CALL_OP_READ, (__s64)ctx->args[3])                  \
	FS_CALLS_IO(pwritev, FS_CALL_PWRITEV, FS_CALL_OP_WRITE, (__s64)ctx->args[3])               \
	FS_CALLS_IO(preadv2, FS_CALL_PREADV2, FS_CALL_OP_READ,                                     \
		    fs_calls_pos_or_file_pos(ctx->args[3]))                                        \
	FS_CALLS_IO(pwritev2, FS_CALL_PWRITEV2, FS_CALL_OP_WRITE,                                  \
		    fs_calls_pos_or_file_pos(ctx->args[3]))                                        \
	FS_CALLS_IO(fsync, FS_CALL_FSYNC, FS_CALL_OP_FSYNC, FS_CALLS_OFFSET_NONE)                  \
	FS_CALLS_IO(fdatasync, FS_CALL_FDATASYNC, FS_CALL_OP_FSYNC, FS_CALLS_OFFSET_NONE)          \
	FS_CALLS_OPEN(open, FS_CALL_OPEN)                                                          \
	FS_CALLS_OPEN(openat, FS_CALL_OPENAT)                                                      \
	FS_CALLS_OPEN(openat2, FS_CALL_OPENAT2)                                                    \
	FS_CALLS_OPEN(creat, FS_CALL_CREAT)                                                        \
	SEC("raw_tp/sys_enter")                                                                    \
	int raw_enter(struct bpf_raw_tracepoint_args *ctx) { return fs_calls_raw_enter(ctx); }     \
	RAW_SYSCALL_EXIT()
