// SPDX-License-Identifier: GPL-2.0
/* sofdsnoop: file descriptors passed over Unix sockets (SCM_RIGHTS control
 * messages of sendmsg and recvmsg). A send's descriptors are read from the
 * caller's msghdr in user memory at the call's entry, in the sender's file
 * table, and reported at its return with the result; a receive's at its
 * return, when the kernel has written the new descriptors into the
 * caller's control buffer and installed them in the receiver's table. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "files.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "syscall_regs.bpf.h"
#include "sofdsnoop/sofdsnoop.h"

char LICENSE[] SEC("license") = "GPL";

#define SOL_SOCKET_LEVEL 1
#define SCM_RIGHTS_TYPE	 1
#define MSG_CTRUNC_FLAG	 8
/* Control messages looked at per call: senders put SCM_RIGHTS in one. */
#define CMSG_WALK 4

const volatile bool failed_only = false;

/* A control message's header as the 64-bit ABI lays it out (struct cmsghdr). */
struct cmsg_head {
	__u64 len; /* header and data, unaligned */
	__s32 level;
	__s32 type;
};

/* A send's event, from its entry to its return, per thread. LRU: a thread
 * that dies in the call leaves its entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sofdsnoop_event);
} pending_send SEC(".maps");

struct pending_recv {
	const void *msg; /* the caller's struct user_msghdr */
	__s32 sock_fd;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct pending_recv);
} pending_recv SEC(".maps");

EVENT_SCRATCH(struct sofdsnoop_event, scratch);

/* The caller's msghdr, when it has room for a control message with a
 * descriptor: 0, else -1 (most sendmsg and recvmsg calls stop here). */
static __always_inline int read_msghdr(const void *umsg, struct user_msghdr *msg)
{
	if (bpf_probe_read_user(msg, sizeof(*msg), umsg))
		return -1;
	if (!msg->msg_control || msg->msg_controllen < sizeof(struct cmsg_head) + sizeof(__s32))
		return -1;
	return 0;
}

/* Walks the control messages of msg: counts the descriptors of every
 * SCM_RIGHTS one into e->fd_count, and lists the first SOFDSNOOP_MAX_FDS
 * of the first with their files, looked up in the current task's table. */
static __always_inline void read_rights(struct sofdsnoop_event *e, const struct user_msghdr *msg)
{
	const char *control = msg->msg_control;
	__u64 end = msg->msg_controllen, off = 0;
	__s32 fds[SOFDSNOOP_MAX_FDS] = {};
	__u32 listed = 0, count = 0;

	for (int i = 0; i < CMSG_WALK; i++) {
		struct cmsg_head h;
		__u64 n;

		if (off + sizeof(h) > end || bpf_probe_read_user(&h, sizeof(h), control + off))
			break;
		if (h.len < sizeof(h) || h.len > end - off)
			break;
		if (h.level == SOL_SOCKET_LEVEL && h.type == SCM_RIGHTS_TYPE) {
			n = (h.len - sizeof(h)) / sizeof(__s32);
			count += n;
			if (!listed && n) {
				__u32 size;

				listed = n < SOFDSNOOP_MAX_FDS ? n : SOFDSNOOP_MAX_FDS;
				size = listed * sizeof(__s32);
				barrier_var(size);
				if (size > sizeof(fds))
					size = sizeof(fds);
				if (bpf_probe_read_user(fds, size, control + off + sizeof(h)))
					listed = 0;
			}
		}
		off += (h.len + 7) & ~7ULL;
	}
	e->fd_count = count;
	e->listed = listed;
	for (__u32 i = 0; i < SOFDSNOOP_MAX_FDS; i++) {
		struct sofdsnoop_file *f = &e->files[i];
		struct file *file;

		if (i >= listed)
			break;
		f->fd = fds[i];
		f->ino = 0;
		f->mode = 0;
		f->name[0] = 0;
		file = current_fd_file(fds[i]);
		if (!file)
			continue;
		f->ino = BPF_CORE_READ(file, f_inode, i_ino);
		f->mode = BPF_CORE_READ(file, f_inode, i_mode);
		bpf_probe_read_kernel_str(f->name, sizeof(f->name),
					  BPF_CORE_READ(file, f_path.dentry, d_name.name));
	}
}

static __always_inline void fill_task(struct sofdsnoop_event *e, __u32 action, long sock_fd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->action = action;
	e->sock_fd = sock_fd;
	e->ctrunc = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

static __always_inline void send_event(void *ctx, struct sofdsnoop_event *e)
{
	__u64 size = offsetof(struct sofdsnoop_event, files) +
		     (__u64)e->listed * sizeof(struct sofdsnoop_file);

	e->ts_ns = bpf_ktime_get_ns();
	events_output_prefix(ctx, e, size, sizeof(*e));
}

static __always_inline int on_send_enter(long sock_fd, const void *umsg)
{
	struct user_msghdr msg;
	struct sofdsnoop_event *e;
	__u32 tid;

	if (current_filtered_out() || read_msghdr(umsg, &msg))
		return 0;
	e = scratch_get(&scratch);
	if (!e)
		return 0;
	read_rights(e, &msg);
	if (!e->fd_count)
		return 0;
	fill_task(e, SOFDSNOOP_SEND, sock_fd);
	tid = e->tid;
	bpf_map_update_elem(&pending_send, &tid, e, BPF_ANY);
	return 0;
}

static __always_inline int on_send_exit(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sofdsnoop_event *e = bpf_map_lookup_elem(&pending_send, &tid);

	if (!e)
		return 0;
	e->ret = ret;
	if (!failed_only || ret < 0)
		send_event(ctx, e);
	bpf_map_delete_elem(&pending_send, &tid);
	return 0;
}

static __always_inline int on_recv_enter(long sock_fd, const void *umsg)
{
	struct pending_recv call = { .msg = umsg, .sock_fd = sock_fd };
	struct user_msghdr msg;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	/* -x: a failed receive passes no descriptor, so there is nothing to show. */
	if (failed_only || current_filtered_out() || read_msghdr(umsg, &msg))
		return 0;
	bpf_map_update_elem(&pending_recv, &tid, &call, BPF_ANY);
	return 0;
}

static __always_inline int on_recv_exit(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_recv *call = bpf_map_lookup_elem(&pending_recv, &tid);
	struct sofdsnoop_event *e;
	struct user_msghdr msg;

	if (!call)
		return 0;
	/* The kernel wrote back the control bytes it used (msg_controllen). */
	if (ret < 0 || read_msghdr(call->msg, &msg))
		goto done;
	e = scratch_get(&scratch);
	if (!e)
		goto done;
	read_rights(e, &msg);
	if (!e->fd_count)
		goto done;
	fill_task(e, SOFDSNOOP_RECV, call->sock_fd);
	e->ctrunc = (msg.msg_flags & MSG_CTRUNC_FLAG) != 0;
	e->ret = ret;
	send_event(ctx, e);
done:
	bpf_map_delete_elem(&pending_recv, &tid);
	return 0;
}

/* Tier 1: the per-call tracepoints (need tracefs). */

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int tp_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	return on_send_enter(ctx->args[0], (const void *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int tp_exit_sendmsg(struct trace_event_raw_sys_exit *ctx) { return on_send_exit(ctx, ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int tp_enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
	return on_recv_enter(ctx->args[0], (const void *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int tp_exit_recvmsg(struct trace_event_raw_sys_exit *ctx) { return on_recv_exit(ctx, ctx->ret); }

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call: the others stop at the number's compare. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];

	if (nr == SYSCALL_NR_SENDMSG)
		return on_send_enter(PT_REGS_PARM1_CORE_SYSCALL(regs),
				     (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_RECVMSG)
		return on_recv_enter(PT_REGS_PARM1_CORE_SYSCALL(regs),
				     (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs));
	return 0;
}

SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = syscall_nr_of((struct pt_regs *)ctx->args[0]);

	if (nr == SYSCALL_NR_SENDMSG)
		return on_send_exit(ctx, ctx->args[1]);
	if (nr == SYSCALL_NR_RECVMSG)
		return on_recv_exit(ctx, ctx->args[1]);
	return 0;
}
