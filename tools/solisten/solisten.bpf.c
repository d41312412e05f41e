// SPDX-License-Identifier: GPL-2.0
/* solisten: every listen() on an IPv4 or IPv6 socket, with its backlog,
 * the local address and port, and the result. The entry keeps the
 * descriptor's file and the backlog per thread; the exit, which has the
 * result, reads the socket behind the file (by then an unbound socket has
 * its port) and sends one event. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "files.bpf.h"
#include "filters.bpf.h"
#include "sock.bpf.h"
#include "syscall_nr.bpf.h"
#include "syscall_pairs.bpf.h"
#include "solisten/solisten.h"

char LICENSE[] SEC("license") = "GPL";

#define S_IFMT_BITS   0170000
#define S_IFSOCK_BITS 0140000

const volatile bool failed_only = false;

struct pending_listen {
	struct file *file;
	__s32 fd;
	__s32 backlog;
};

PENDING_CALLS(struct pending_listen, 16384);

static __always_inline int on_enter(long fd, long backlog)
{
	struct pending_listen call = { .fd = fd, .backlog = backlog };

	if (current_filtered_out())
		return 0;
	call.file = current_fd_file(fd);
	return pending_call_keep(&pending, &call);
}

/* The socket behind file, or NULL where file is not a socket (listen() on
 * any other descriptor fails with ENOTSOCK). */
static __always_inline struct sock *sock_of_file(struct file *file)
{
	struct socket *socket;

	if (!file || (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT_BITS) != S_IFSOCK_BITS)
		return NULL;
	socket = BPF_CORE_READ(file, private_data);
	if (!socket)
		return NULL;
	return BPF_CORE_READ(socket, sk);
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct solisten_event e = {};
	struct pending_listen *call;
	__u8 raddr[16];
	__u16 rport;
	struct sock *sk;

	call = bpf_map_lookup_elem(&pending, &tid);
	if (!call)
		return 0;
	if (failed_only && ret >= 0)
		goto done;
	/* The call held its own reference on the file until it returned. */
	sk = sock_of_file(call->file);
	if (!sk)
		goto done;
	e.family = sock_read_endpoints(sk, e.addr, raddr, &e.port, &rport);
	if (family_filtered_out(e.family) || ports_filtered_out(e.port, 0))
		goto done;
	e.protocol = sock_protocol(sk);
	if (ret == 0)
		e.max_backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
	e.ts_ns = bpf_ktime_get_ns();
	e.pid = pid_tgid >> 32;
	e.tid = tid;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.ret = ret;
	e.fd = call->fd;
	e.backlog = call->backlog;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	events_output(ctx, &e, sizeof(e));
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Tier 1: listen's own tracepoints (need tracefs). */

SEC("tracepoint/syscalls/sys_enter_listen")
int tp_enter_listen(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], ctx->args[1]);
}

SYSCALL_EXIT(listen)

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call: the entry stops at once for all but listen, the exit
 * at the lookup of a thread that has no listen pending. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];

	if (ctx->args[1] != SYSCALL_NR_LISTEN)
		return 0;
	return on_enter(PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs));
}

RAW_SYSCALL_EXIT()
