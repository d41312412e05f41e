// SPDX-License-Identifier: GPL-2.0
/* tcpaccept: TCP connections accepted by a process. The handshake completes
 * in softirq context, where the current task is unrelated, so the event is
 * taken where the process receives the connection: the return of accept()
 * and accept4(). The returned descriptor is resolved to its socket through
 * the task's file table for the addresses and ports. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "sock.bpf.h"
#include "syscall_nr.bpf.h"
#include "tcpaccept/tcpaccept.h"

char LICENSE[] SEC("license") = "GPL";

/* Threads inside accept() (raw tracepoint tier only). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} pending SEC(".maps");

static __always_inline int on_accepted(void *ctx, long ret)
{
	struct tcpaccept_event e = {};
	__u64 pid_tgid;
	struct sock *sk;

	if (ret < 0)
		return 0;
	sk = sock_from_fd((int)ret);
	if (!sk || sock_protocol(sk) != SOCK_IPPROTO_TCP)
		return 0;
	e.family = sock_read_endpoints(sk, e.laddr, e.raddr, &e.lport, &e.rport);
	if (family_filtered_out(e.family) || ports_filtered_out(e.lport, e.rport))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	e.ts_ns = bpf_ktime_get_ns();
	e.pid = pid_tgid >> 32;
	e.tid = (__u32)pid_tgid;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.fd = (__s32)ret;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	events_output(ctx, &e, sizeof(e));
	return 0;
}

/* Tier 1: the accept system calls' own exit tracepoints (need tracefs). */

SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	if (current_filtered_out())
		return 0;
	return on_accepted(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	if (current_filtered_out())
		return 0;
	return on_accepted(ctx, ctx->ret);
}

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call: entry marks the threads that called accept. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = ctx->args[1];
	__u32 tid;
	__u8 one = 1;

	if (nr != SYSCALL_NR_ACCEPT && nr != SYSCALL_NR_ACCEPT4)
		return 0;
	if (current_filtered_out())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending, &tid, &one, BPF_ANY);
	return 0;
}

SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!bpf_map_lookup_elem(&pending, &tid))
		return 0;
	bpf_map_delete_elem(&pending, &tid);
	return on_accepted(ctx, ctx->args[1]);
}
