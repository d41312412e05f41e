/* For the tools that count reads and writes by file (filetop, dirtop): the
 * read and write families of system calls with the file each is on.
 *
 * The entry finds the file behind the descriptor argument (files.bpf.h)
 * and asks the tool whether it wants it: file_rw_wanted(file, &cookie),
 * which may keep a number for the exit in cookie (dirtop: which watched
 * directory). A wanted call is kept in the pending map by thread; the exit,
 * which has the result (the bytes moved), calls
 * file_rw_done(file, cookie, write, bytes) for a call that succeeded
 * (bytes >= 0; a read at end of file is a read of 0 bytes). The file is
 * the one found at entry: the call holds it until it returns.
 *
 * The tool defines both functions and then writes FILE_RW_PROGRAMS(),
 * which makes the programs of both tiers: the calls' own tracepoints
 * (tp_enter_CALL, tp_exit_CALL; need tracefs) and the raw sys_enter and
 * sys_exit (raw_enter, raw_exit), which run for every system call and stop
 * after a few compares for the others. User space attaches them with
 * syscall_tiers() over common/file_rw.h's file_rw_calls(). */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "files.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "syscall_pairs.bpf.h"

#define FILE_RW_MODE_TYPE    0170000
#define FILE_RW_MODE_REGULAR 0100000
#define FILE_RW_MODE_SOCKET  0140000

/* The tool's own reads and writes (its output) are left out. */
const volatile __u32 file_rw_self_tgid = 0;

struct file_rw_call {
	struct file *file;
	__u64 cookie;
	__u32 write; /* 1: a write-family call */
};

PENDING_CALLS(struct file_rw_call, 16384);

static bool file_rw_wanted(struct file *file, __u64 *cookie);
static void file_rw_done(struct file *file, __u64 cookie, bool write, long bytes);

/* The mode bits of the file's inode (S_IFMT and the permissions). */
static __always_inline __u32 file_rw_mode(struct file *file)
{
	return BPF_CORE_READ(file, f_inode, i_mode);
}

static __always_inline int file_rw_enter(long fd, __u32 write)
{
	struct file_rw_call call = { .write = write };
	struct file *file;

	if ((bpf_get_current_pid_tgid() >> 32) == file_rw_self_tgid || current_filtered_out())
		return 0;
	file = current_fd_file(fd);
	if (!file || !file_rw_wanted(file, &call.cookie))
		return 0;
	call.file = file;
	return pending_call_keep(&pending, &call);
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct file_rw_call *call = bpf_map_lookup_elem(&pending, &tid);

	if (!call)
		return 0;
	if (ret >= 0)
		file_rw_done(call->file, call->cookie, call->write != 0, ret);
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

#define FILE_RW_TRACEPOINTS(call, write)                                                           \
	SEC("tracepoint/syscalls/sys_enter_" #call)                                                \
	int tp_enter_##call(struct trace_event_raw_sys_enter *ctx)                                 \
	{                                                                                          \
		return file_rw_enter(ctx->args[0], write);                                         \
	}                                                                                          \
	SYSCALL_EXIT(call)

/* Numbers are -1 where an architecture lacks a call, so no switch. */
static __always_inline int file_rw_raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];

	if (nr == SYSCALL_NR_READ || nr == SYSCALL_NR_PREAD64 || nr == SYSCALL_NR_READV ||
	    nr == SYSCALL_NR_PREADV || nr == SYSCALL_NR_PREADV2)
		return file_rw_enter(PT_REGS_PARM1_CORE_SYSCALL(regs), 0);
	if (nr == SYSCALL_NR_WRITE || nr == SYSCALL_NR_PWRITE64 || nr == SYSCALL_NR_WRITEV ||
	    nr == SYSCALL_NR_PWRITEV || nr == SYSCALL_NR_PWRITEV2)
		return file_rw_enter(PT_REGS_PARM1_CORE_SYSCALL(regs), 1);
	return 0;
}

#define FILE_RW_PROGRAMS()                                                                         \
	FILE_RW_TRACEPOINTS(read, 0)                                                               \
	FILE_RW_TRACEPOINTS(pread64, 0)                                                            \
	FILE_RW_TRACEPOINTS(readv, 0)                                                              \
	FILE_RW_TRACEPOINTS(preadv, 0)                                                             \
	FILE_RW_TRACEPOINTS(preadv2, 0)                                                            \
	FILE_RW_TRACEPOINTS(write, 1)                                                              \
	FILE_RW_TRACEPOINTS(pwrite64, 1)                                                           \
	FILE_RW_TRACEPOINTS(writev, 1)                                                             \
	FILE_RW_TRACEPOINTS(pwritev, 1)                                                            \
	FILE_RW_TRACEPOINTS(pwritev2, 1)                                                           \
	SEC("raw_tp/sys_enter")                                                                    \
	int raw_enter(struct bpf_raw_tracepoint_args *ctx) { return file_rw_raw_enter(ctx); }      \
	RAW_SYSCALL_EXIT()
