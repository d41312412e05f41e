// SPDX-License-Identifier: GPL-2.0
/* ttysnoop: what is written to a terminal. At the entry of write() and
 * writev() (and pwritev2() at the file's position), the file behind the descriptor is looked up;
 * when its inode is the watched terminal's character device (or, with no terminal named, one of a
 * terminal driver's), the bytes are copied from the caller's buffer, up to the capture limit, and
 * sent as one event. Entry only: the bytes are those the caller asked to write, whatever the call
 * then returns. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "files.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "ttysnoop/ttysnoop.h"

char LICENSE[] SEC("license") = "GPL";

#define S_IFMT	00170000
#define S_IFCHR 0020000

/* The watched terminal's device number in the kernel's encoding (major <<
 * 20 | minor); 0: every terminal whose major is in tty_majors. */
const volatile __u32 target_rdev = 0;
const volatile __u32 tty_majors[TTYSNOOP_MAX_MAJORS] = {};
const volatile __u32 tty_major_count = 0;
/* Bytes captured of one write at most (<= TTYSNOOP_DATA_MAX). */
const volatile __u32 capture_limit = 4096;
/* ttysnoop's own process: its output may go to the watched terminal. */
const volatile __u32 self_tgid = 0;

EVENT_SCRATCH(struct ttysnoop_event, scratch);

static __always_inline bool is_tty_major(__u32 major)
{
	for (int i = 0; i < TTYSNOOP_MAX_MAJORS; i++) {
		if (i >= tty_major_count)
			return false;
		if (tty_majors[i] == major)
			return true;
	}
	return false;
}

/* The terminal behind fd, as its kernel device number; 0 when fd is no
 * watched terminal. */
static __always_inline __u32 watched_tty(long fd)
{
	struct file *file = current_fd_file(fd);
	struct inode *inode;
	__u32 rdev;

	if (!file)
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFCHR)
		return 0;
	rdev = BPF_CORE_READ(inode, i_rdev);
	if (target_rdev)
		return rdev == target_rdev ? rdev : 0;
	return is_tty_major(rdev >> 20) ? rdev : 0;
}

/* Copies n bytes from src to e->data at *used, within the limit. */
static __always_inline void capture(struct ttysnoop_event *e, __u32 *used, const void *src, __u64 n)
{
	__u32 at = *used;
	__u64 size;

	if (at >= capture_limit || at >= TTYSNOOP_DATA_MAX)
		return;
	size = capture_limit - at;
	if (n < size)
		size = n;
	barrier_var(size);
	if (size > TTYSNOOP_DATA_MAX)
		size = TTYSNOOP_DATA_MAX;
	if (size == 0)
		return;
	if (bpf_probe_read_user(e->data + (at & (TTYSNOOP_DATA_MAX - 1)), size, src))
		return;
	*used = at + size;
}

static __always_inline struct ttysnoop_event *start_event(long fd, __u32 call)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct ttysnoop_event *e;
	__u32 rdev;

	if ((pid_tgid >> 32) == self_tgid)
		return NULL;
	if (current_filtered_out())
		return NULL;
	rdev = watched_tty(fd);
	if (!rdev)
		return NULL;
	e = scratch_get(&scratch);
	if (!e)
		return NULL;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->call = call;
	e->fd = fd;
	e->major = rdev >> 20;
	e->minor = rdev & 0xfffff;
	e->count = 0;
	e->len = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

static __always_inline void send(void *ctx, struct ttysnoop_event *e, __u32 used)
{
	e->len = used;
	events_output_prefix(ctx, e, offsetof(struct ttysnoop_event, data) + used, sizeof(*e));
}

static __always_inline int on_write(void *ctx, long fd, const void *buf, __u64 count)
{
	struct ttysnoop_event *e = start_event(fd, TTYSNOOP_WRITE);
	__u32 used = 0;

	if (!e)
		return 0;
	e->count = count;
	capture(e, &used, buf, count);
	send(ctx, e, used);
	return 0;
}

struct writev_walk {
	struct ttysnoop_event *e;
	const struct iovec *iov;
	__u64 count;
	__u32 used;
};

static long writev_step(__u32 i, void *ctx)
{
	struct writev_walk *w = ctx;
	struct ttysnoop_event *e = w->e;
	struct iovec iov;
	__u32 used = w->used;

	if (bpf_probe_read_user(&iov, sizeof(iov), w->iov + i))
		return 1;
	w->count += iov.iov_len;
	capture(e, &used, iov.iov_base, iov.iov_len);
	w->used = used;
	return 0;
}

static __always_inline int on_writev(void *ctx, long fd, const struct iovec *iov, long iovcnt,
				     __u32 call)
{
	struct ttysnoop_event *e = start_event(fd, call);
	struct writev_walk w = { .iov = iov };

	if (!e)
		return 0;
	w.e = e;
	if (iovcnt > TTYSNOOP_MAX_IOVECS)
		iovcnt = TTYSNOOP_MAX_IOVECS;
	if (iovcnt > 0)
		bpf_loop(iovcnt, writev_step, &w, 0);
	e->count = w.count;
	send(ctx, e, w.used);
	return 0;
}

/* Tier 1: the per-call tracepoints (need tracefs). */

SEC("tracepoint/syscalls/sys_enter_write")
int tp_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return on_write(ctx, ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_writev")
int tp_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	return on_writev(ctx, ctx->args[0], (const struct iovec *)ctx->args[1], ctx->args[2],
			 TTYSNOOP_WRITEV);
}

/* pwritev2 with offset -1 writes at the file's position, as writev does:
 * the one positioned write a terminal takes (others fail with ESPIPE). */
SEC("tracepoint/syscalls/sys_enter_pwritev2")
int tp_enter_pwritev2(struct trace_event_raw_sys_enter *ctx)
{
	if ((long)ctx->args[3] != -1)
		return 0;
	return on_writev(ctx, ctx->args[0], (const struct iovec *)ctx->args[1], ctx->args[2],
			 TTYSNOOP_PWRITEV2);
}

/* Tier 2: the raw sys_enter, which needs no tracefs but runs for every
 * system call. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];

	if (nr == SYSCALL_NR_WRITE)
		return on_write(ctx, PT_REGS_PARM1_CORE_SYSCALL(regs),
				(const void *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				PT_REGS_PARM3_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_WRITEV)
		return on_writev(ctx, PT_REGS_PARM1_CORE_SYSCALL(regs),
				 (const struct iovec *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				 PT_REGS_PARM3_CORE_SYSCALL(regs), TTYSNOOP_WRITEV);
	if (nr == SYSCALL_NR_PWRITEV2 && (long)PT_REGS_PARM4_CORE_SYSCALL(regs) == -1)
		return on_writev(ctx, PT_REGS_PARM1_CORE_SYSCALL(regs),
				 (const struct iovec *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				 PT_REGS_PARM3_CORE_SYSCALL(regs), TTYSNOOP_PWRITEV2);
	return 0;
}
