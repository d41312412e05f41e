// SPDX-License-Identifier: GPL-2.0
/* tcptracer: connects, accepts and closes of TCP connections, one event
 * each, from sock:inet_sock_set_state and the return of accept():
 *
 * - connect (C): the move from SYN_SENT to ESTABLISHED, in softirq
 *   context; the owner was recorded at connect()'s CLOSE -> SYN_SENT;
 * - accept (A): the return of accept() or accept4() in the accepting
 *   process, with the socket behind the new descriptor;
 * - close (X): an established connection's first move towards its end:
 *   to FIN_WAIT1 (this end closed first), to LAST_ACK (this end closed
 *   after the peer), or to CLOSE straight from ESTABLISHED or CLOSE_WAIT
 *   (a reset, an abort); once per socket.
 *
 * Owners come from bpf/sock_owners.bpf.h, recorded where the owner runs:
 * connect(), accept's return, close() (FIN_WAIT1, LAST_ACK). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "sock.bpf.h"
#include "sock_owners.bpf.h"
#include "syscall_nr.bpf.h"
#include "syscall_regs.bpf.h"
#include "tcptracer/tcptracer.h"

char LICENSE[] SEC("license") = "GPL";

/* The event a change is, or 0. */
static __always_inline __u8 event_type(int oldstate, int newstate)
{
	if (oldstate == SOCK_TCP_SYN_SENT && newstate == SOCK_TCP_ESTABLISHED)
		return TCPTRACER_CONNECT;
	if (newstate == SOCK_TCP_FIN_WAIT1 && oldstate == SOCK_TCP_ESTABLISHED)
		return TCPTRACER_CLOSE;
	if (newstate == SOCK_TCP_LAST_ACK)
		return TCPTRACER_CLOSE;
	if (newstate == SOCK_TCP_CLOSE &&
	    (oldstate == SOCK_TCP_ESTABLISHED || oldstate == SOCK_TCP_CLOSE_WAIT))
		return TCPTRACER_CLOSE;
	return 0;
}

/* e has the family, addresses and ports. */
static __always_inline int report(void *ctx, const struct sock *sk, __u8 type,
				  struct tcptracer_event *e)
{
	const struct sock_owner *owner = sock_owner_of(sk);

	if (sock_owner_filtered_out(owner) || family_filtered_out(e->family))
		return 0;
	e->owner_known = SOCK_OWNER_FILL(e, owner);
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	events_output(ctx, e, sizeof(*e));
	return 0;
}

/* Records the owner where the change runs in its system call; returns the
 * event the change is. At CLOSE, the caller forgets the owner after. */
static __always_inline __u8 track(const struct sock *sk, int oldstate, int newstate)
{
	if ((oldstate == SOCK_TCP_CLOSE && newstate == SOCK_TCP_SYN_SENT) ||
	    newstate == SOCK_TCP_FIN_WAIT1 || newstate == SOCK_TCP_LAST_ACK)
		sock_owner_remember(sk);
	return event_type(oldstate, newstate);
}

static __always_inline int on_state(void *ctx, const struct sock *sk, int oldstate, int newstate)
{
	struct tcptracer_event e = {};
	__u8 type;

	if (sock_protocol(sk) != SOCK_IPPROTO_TCP)
		return 0;
	type = track(sk, oldstate, newstate);
	if (type) {
		e.family = sock_read_endpoints(sk, e.laddr, e.raddr, &e.lport, &e.rport);
		report(ctx, sk, type, &e);
	}
	if (newstate == SOCK_TCP_CLOSE)
		sock_owner_forget(sk);
	return 0;
}

/* State changes, tier 1: the BTF-typed tracepoint (5.5+). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(ctx, sk, oldstate, newstate);
}

/* Tier 2: the raw tracepoint. */
SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(raw_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(ctx, sk, oldstate, newstate);
}

/* Tier 3: the tracepoint (needs tracefs). */
SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = ctx->skaddr;
	struct tcptracer_event e = {};
	__u8 type;

	if (ctx->protocol != SOCK_IPPROTO_TCP)
		return 0;
	type = track(sk, ctx->oldstate, ctx->newstate);
	if (type) {
		e.family = SOCK_TP_READ_ENDPOINTS(ctx, e.laddr, e.raddr, &e.lport, &e.rport);
		report(ctx, sk, type, &e);
	}
	if (ctx->newstate == SOCK_TCP_CLOSE)
		sock_owner_forget(sk);
	return 0;
}

/* accept() returned a connection: the accepting process owns it now. */
static __always_inline int on_accepted(void *ctx, long ret)
{
	struct tcptracer_event e = {};
	struct sock *sk;

	if (ret < 0)
		return 0;
	sk = sock_from_fd((int)ret);
	if (!sk || sock_protocol(sk) != SOCK_IPPROTO_TCP)
		return 0;
	sock_owner_remember(sk);
	e.family = sock_read_endpoints(sk, e.laddr, e.raddr, &e.lport, &e.rport);
	return report(ctx, sk, TCPTRACER_ACCEPT, &e);
}

/* accept returns, tier 1: the calls' own exit tracepoints (need tracefs). */
SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_exit_accept4(struct trace_event_raw_sys_exit *ctx) { return on_accepted(ctx, ctx->ret); }

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_exit_accept(struct trace_event_raw_sys_exit *ctx) { return on_accepted(ctx, ctx->ret); }

/* Tier 2: the raw exit of every system call, which stops at once for all
 * but the accepts (their number is in the saved registers). */
SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = syscall_nr_of((struct pt_regs *)ctx->args[0]);

	if (nr != SYSCALL_NR_ACCEPT4 && nr != SYSCALL_NR_ACCEPT)
		return 0;
	return on_accepted(ctx, ctx->args[1]);
}
