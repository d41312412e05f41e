// SPDX-License-Identifier: GPL-2.0
/* tcpconnlat: the latency of each active TCP connect, from
 * sock:inet_sock_set_state alone (bpf/tcp_connect_latency.bpf.h): connect()
 * moves the socket from CLOSE to SYN_SENT in the connecting task, which
 * stamps it and records the owner (bpf/sock_owners.bpf.h); the move out of
 * SYN_SENT, in softirq context, ends it: ESTABLISHED, or a failed connect
 * (CLOSE), which is reported only when asked for. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "sock.bpf.h"
#include "sock_owners.bpf.h"
#include "tcp_connect_latency.bpf.h"
#include "tcpconnlat/tcpconnlat.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_latency_ns = 0;
const volatile bool show_failed = false; /* -F: failed connects too */
const volatile bool failed_only = false; /* -x: failed connects only */

/* e has the family, addresses and ports; sk's connect ended. */
static __always_inline int report(void *ctx, const struct sock *sk, enum tcp_connect_phase phase,
				  __u64 latency_ns, int newstate, struct tcpconnlat_event *e)
{
	const struct sock_owner *owner = sock_owner_of(sk);
	bool failed = phase == TCP_CONNECT_FAILED;

	if (failed ? !(show_failed || failed_only) : failed_only)
		goto done;
	if (latency_ns < min_latency_ns || sock_owner_filtered_out(owner) ||
	    family_filtered_out(e->family) || ports_filtered_out(e->lport, e->rport))
		goto done;
	e->owner_known = SOCK_OWNER_FILL(e, owner);
	e->ts_ns = bpf_ktime_get_ns();
	e->latency_ns = latency_ns;
	e->failed = failed;
	e->new_state = (__u8)newstate;
	events_output(ctx, e, sizeof(*e));
done:
	sock_owner_forget(sk);
	return 0;
}

/* Where the change is neither a connect's start nor its end, nothing more
 * than the comparisons runs. */
static __always_inline enum tcp_connect_phase track(const struct sock *sk, int oldstate,
						    int newstate, __u64 *latency_ns)
{
	enum tcp_connect_phase phase;

	if (oldstate != SOCK_TCP_SYN_SENT && newstate != SOCK_TCP_SYN_SENT)
		return TCP_CONNECT_NONE;
	/* The start runs in connect(): the current task is the owner. */
	phase = tcp_connect_latency_on_state(sk, oldstate, newstate,
					     oldstate == SOCK_TCP_CLOSE && !current_filtered_out(),
					     latency_ns);
	if (phase == TCP_CONNECT_STARTED)
		sock_owner_remember(sk);
	return phase;
}

static __always_inline int on_state(void *ctx, const struct sock *sk, int oldstate, int newstate)
{
	struct tcpconnlat_event e = {};
	enum tcp_connect_phase phase;
	__u64 latency_ns = 0;

	if (oldstate != SOCK_TCP_SYN_SENT && newstate != SOCK_TCP_SYN_SENT)
		return 0;
	if (sock_protocol(sk) != SOCK_IPPROTO_TCP)
		return 0;
	phase = track(sk, oldstate, newstate, &latency_ns);
	if (phase != TCP_CONNECT_ESTABLISHED && phase != TCP_CONNECT_FAILED)
		return 0;
	e.family = sock_read_endpoints(sk, e.laddr, e.raddr, &e.lport, &e.rport);
	return report(ctx, sk, phase, latency_ns, newstate, &e);
}

/* Tier 1: the BTF-typed tracepoint (5.5+). */
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
	struct tcpconnlat_event e = {};
	enum tcp_connect_phase phase;
	__u64 latency_ns = 0;

	if (ctx->protocol != SOCK_IPPROTO_TCP)
		return 0;
	phase = track(sk, ctx->oldstate, ctx->newstate, &latency_ns);
	if (phase != TCP_CONNECT_ESTABLISHED && phase != TCP_CONNECT_FAILED)
		return 0;
	e.family = SOCK_TP_READ_ENDPOINTS(ctx, e.laddr, e.raddr, &e.lport, &e.rport);
	return report(ctx, sk, phase, latency_ns, ctx->newstate, &e);
}
