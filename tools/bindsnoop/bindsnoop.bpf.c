// SPDX-License-Identifier: GPL-2.0
/* bindsnoop: every bind() on an IPv4 or IPv6 socket. The entry keeps the
 * descriptor and the address argument per thread; the exit finds the socket
 * through the task's file table (bpf/files.bpf.h), reads its protocol, type,
 * options and the port it holds now, and the address the caller asked for
 * (the call has read it, so it is in memory), and sends one event. No
 * kprobe on inet_bind: the system call tracepoints work everywhere. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "sock.bpf.h"
#include "syscall_nr.bpf.h"
#include "syscall_pairs.bpf.h"
#include "bindsnoop/bindsnoop.h"

char LICENSE[] SEC("license") = "GPL";

#define S_IFMT	      00170000
#define S_IFSOCK      0140000
#define SOCK_RAW_TYPE 3

const volatile bool failed_only = false;

struct pending_bind {
	const void *addr;
	__s32 fd;
	__u32 addrlen;
};

PENDING_CALLS(struct pending_bind, 16384);

/* Before 6.6 the options were bits of struct inet_sock; since, they are bits
 * of inet_flags, numbered by an anonymous enum (so no CO-RE relocation: the
 * numbers have not changed since they were introduced). */
struct inet_sock___bits {
	__u8 freebind : 1;
	__u8 transparent : 1;
	__u8 bind_address_no_port : 1;
} __attribute__((preserve_access_index));

struct inet_sock___flags {
	unsigned long inet_flags;
} __attribute__((preserve_access_index));

#define INET_FLAGS_FREEBIND_BIT		    11
#define INET_FLAGS_TRANSPARENT_BIT	    15
#define INET_FLAGS_BIND_ADDRESS_NO_PORT_BIT 18

static __always_inline __u8 bind_options(struct sock *sk)
{
	__u8 opts = 0;

	if (bpf_core_field_exists(struct inet_sock___flags, inet_flags)) {
		struct inet_sock___flags *inet = (void *)sk;
		unsigned long flags = BPF_CORE_READ(inet, inet_flags);

		if (flags & (1UL << INET_FLAGS_FREEBIND_BIT))
			opts |= BINDSNOOP_OPT_FREEBIND;
		if (flags & (1UL << INET_FLAGS_TRANSPARENT_BIT))
			opts |= BINDSNOOP_OPT_TRANSPARENT;
		if (flags & (1UL << INET_FLAGS_BIND_ADDRESS_NO_PORT_BIT))
			opts |= BINDSNOOP_OPT_BIND_ADDRESS_NO_PORT;
	} else if (bpf_core_field_exists(struct inet_sock___bits, freebind)) {
		struct inet_sock___bits *inet = (void *)sk;

		if (BPF_CORE_READ_BITFIELD_PROBED(inet, freebind))
			opts |= BINDSNOOP_OPT_FREEBIND;
		if (BPF_CORE_READ_BITFIELD_PROBED(inet, transparent))
			opts |= BINDSNOOP_OPT_TRANSPARENT;
		if (BPF_CORE_READ_BITFIELD_PROBED(inet, bind_address_no_port))
			opts |= BINDSNOOP_OPT_BIND_ADDRESS_NO_PORT;
	}
	if (BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_reuse))
		opts |= BINDSNOOP_OPT_REUSEADDR;
	if (BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_reuseport))
		opts |= BINDSNOOP_OPT_REUSEPORT;
	return opts;
}

/* The socket behind fd, or NULL when fd is no socket (bind() then fails
 * with ENOTSOCK or EBADF): a file's private_data is a struct socket only
 * when its inode is a socket's. */
static __always_inline struct sock *bound_sock(int fd)
{
	struct file *file = current_fd_file(fd);
	struct socket *socket;
	umode_t mode;

	if (!file)
		return NULL;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	socket = BPF_CORE_READ(file, private_data);
	if (!socket)
		return NULL;
	return BPF_CORE_READ(socket, sk);
}

static __always_inline int on_enter(long fd, const void *addr, long addrlen)
{
	struct pending_bind call = { .addr = addr, .fd = fd, .addrlen = addrlen };

	if (current_filtered_out())
		return 0;
	return pending_call_keep(&pending, &call);
}

/* The address argument: struct sockaddr_in (family, port, 4 bytes of
 * address at 4) or sockaddr_in6 (family, port, flow info, 16 bytes at 8). */
static __always_inline void read_address(struct bindsnoop_event *e, const struct pending_bind *call)
{
	const __u8 *addr = call->addr;
	__u16 family = 0, port = 0;

	if (!addr || call->addrlen < 4)
		return;
	if (bpf_probe_read_user(&family, sizeof(family), addr) ||
	    bpf_probe_read_user(&port, sizeof(port), addr + 2))
		return;
	e->addr_family = family;
	e->port = bpf_ntohs(port);
	if (family == SOCK_AF_INET && call->addrlen >= 8)
		e->addr_read = !bpf_probe_read_user(e->addr, 4, addr + 4);
	else if (family == SOCK_AF_INET6 && call->addrlen >= 24)
		e->addr_read = !bpf_probe_read_user(e->addr, 16, addr + 8);
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct bindsnoop_event e = {};
	struct pending_bind *call;
	struct sock *sk;
	__u16 port;

	call = bpf_map_lookup_elem(&pending, &tid);
	if (!call)
		return 0;
	if (failed_only && ret == 0)
		goto done;
	sk = bound_sock(call->fd);
	if (!sk)
		goto done;
	e.family = sock_family(sk);
	if (family_filtered_out(e.family))
		goto done;
	read_address(&e, call);
	e.type = (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
	/* A raw socket has no port: its inet_sport is its protocol. */
	if (ret == 0 && e.type != SOCK_RAW_TYPE)
		e.bound_port = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	/* -P: the port asked for, or the one the kernel chose for port 0. */
	port = e.port ? e.port : e.bound_port;
	if (ports_filtered_out(port, 0))
		goto done;
	e.ts_ns = bpf_ktime_get_ns();
	e.pid = pid_tgid >> 32;
	e.tid = tid;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.ret = ret;
	e.fd = call->fd;
	e.bound_if = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
	e.protocol = sock_protocol(sk);
	e.opts = bind_options(sk);
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	events_output(ctx, &e, sizeof(e));
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Tier 1: bind's own tracepoints (need tracefs). */

SEC("tracepoint/syscalls/sys_enter_bind")
int tp_enter_bind(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
}

SYSCALL_EXIT(bind)

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call: the entry stops at once for the others, and the exit
 * at its lookup. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];

	if (ctx->args[1] != SYSCALL_NR_BIND)
		return 0;
	return on_enter(PT_REGS_PARM1_CORE_SYSCALL(regs),
			(const void *)PT_REGS_PARM2_CORE_SYSCALL(regs),
			PT_REGS_PARM3_CORE_SYSCALL(regs));
}

RAW_SYSCALL_EXIT()
