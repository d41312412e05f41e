// SPDX-License-Identifier: GPL-2.0
/* tcpcong: the time each TCP connection spends in each congestion state
 * (open, disorder, cwr, recovery, loss). tcp:tcp_cong_state_set fires in
 * tcp_set_ca_state(), before the socket takes its new state; the span in
 * the state it leaves goes to that state's total. A connection is tracked
 * from its move to ESTABLISHED (sock:inet_sock_set_state; it starts in
 * open) to its move to CLOSE, when its totals become final and it moves to
 * the closed map; a connection older than the trace is tracked from its
 * first state change seen. Nothing goes to user space per change: the
 * loader reads both maps every interval and deletes the closed
 * connections it printed. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sock.bpf.h"
#include "tcpcong/tcpcong.h"

char LICENSE[] SEC("license") = "GPL";

/* LRU: a socket whose CLOSE was never seen must not pin an entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TCPCONG_MAX_CONNS);
	__type(key, __u64);
	__type(value, struct tcpcong_conn);
} conns SEC(".maps");

/* Closed connections until the loader prints them, by socket and close
 * time: the socket's memory is soon another connection's, whose entry in
 * conns must not overwrite this one's final totals. A plain hash: when the
 * loader has stalled until it is full, a closed connection stays in conns,
 * marked closed, until its socket is reused. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCPCONG_MAX_CONNS);
	__type(key, struct tcpcong_closed_key);
	__type(value, struct tcpcong_conn);
} closed_conns SEC(".maps");

/* The span since the last change goes to the state being left. */
static __always_inline void close_span(struct tcpcong_conn *c, __u64 now)
{
	__u32 state = c->state;

	if (state < TCPCONG_STATES && now > c->changed_ns)
		c->state_ns[state] += now - c->changed_ns;
	c->changed_ns = now;
}

/* A new entry for sk in state, its endpoints in *c; false if filtered out. */
static __always_inline void track(__u64 key, struct tcpcong_conn *c, __u32 state)
{
	if (family_filtered_out(c->family) || ports_filtered_out(c->lport, c->rport))
		return;
	c->state = state;
	c->changed_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&conns, &key, c, BPF_ANY);
}

/* c holds the endpoints if the connection is new. */
static __always_inline void on_cong_state(__u64 key, struct tcpcong_conn *fresh, __u32 state)
{
	struct tcpcong_conn *c = bpf_map_lookup_elem(&conns, &key);

	if (state >= TCPCONG_STATES)
		return;
	if (!c) {
		/* Older than the trace: from now on, its time before unknown. */
		fresh->changes = 1;
		track(key, fresh, state);
		return;
	}
	if (c->closed || c->state == state)
		return;
	close_span(c, bpf_ktime_get_ns());
	c->state = state;
	c->changes++;
}

static __always_inline void on_set_state(__u64 key, struct tcpcong_conn *fresh, int newstate)
{
	struct tcpcong_closed_key closed_key = {};
	struct tcpcong_conn *c;

	if (newstate == SOCK_TCP_ESTABLISHED) {
		track(key, fresh, TCPCONG_OPEN);
		return;
	}
	if (newstate != SOCK_TCP_CLOSE)
		return;
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c || c->closed)
		return;
	closed_key.sk = key;
	closed_key.closed_ns = bpf_ktime_get_ns();
	close_span(c, closed_key.closed_ns);
	c->closed = 1;
	if (bpf_map_update_elem(&closed_conns, &closed_key, c, BPF_NOEXIST) == 0)
		bpf_map_delete_elem(&conns, &key);
}

static __always_inline void read_endpoints(const struct sock *sk, struct tcpcong_conn *c)
{
	c->family = sock_read_endpoints(sk, c->laddr, c->raddr, &c->lport, &c->rport);
}

/* Tier 1: the BTF-typed tracepoints. */
SEC("tp_btf/tcp_cong_state_set")
int BPF_PROG(btf_cong_state, const struct sock *sk, __u8 ca_state)
{
	struct tcpcong_conn fresh = {};

	read_endpoints(sk, &fresh);
	on_cong_state((__u64)sk, &fresh, ca_state);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_set_state, const struct sock *sk, int oldstate, int newstate)
{
	struct tcpcong_conn fresh = {};

	if (sock_protocol(sk) != SOCK_IPPROTO_TCP)
		return 0;
	if (newstate == SOCK_TCP_ESTABLISHED)
		read_endpoints(sk, &fresh);
	on_set_state((__u64)sk, &fresh, newstate);
	return 0;
}

/* Tier 2: the raw tracepoints. */
SEC("raw_tp/tcp_cong_state_set")
int BPF_PROG(raw_cong_state, const struct sock *sk, __u8 ca_state)
{
	struct tcpcong_conn fresh = {};

	read_endpoints(sk, &fresh);
	on_cong_state((__u64)sk, &fresh, ca_state);
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(raw_set_state, const struct sock *sk, int oldstate, int newstate)
{
	struct tcpcong_conn fresh = {};

	if (sock_protocol(sk) != SOCK_IPPROTO_TCP)
		return 0;
	if (newstate == SOCK_TCP_ESTABLISHED)
		read_endpoints(sk, &fresh);
	on_set_state((__u64)sk, &fresh, newstate);
	return 0;
}

/* Tier 3: the tracepoints (need tracefs); endpoints from the records. */
SEC("tracepoint/tcp/tcp_cong_state_set")
int tp_cong_state(struct trace_event_raw_tcp_cong_state_set *ctx)
{
	struct tcpcong_conn fresh = {};
	__u64 key = (__u64)ctx->skaddr;
	__u32 state = ctx->cong_state;

	/* Read the record's fields first: the verifier refuses a context
	 * pointer the compiler moved between the reads. */
	barrier_var(state);
	fresh.family =
		SOCK_TP_READ_ENDPOINTS(ctx, fresh.laddr, fresh.raddr, &fresh.lport, &fresh.rport);
	on_cong_state(key, &fresh, state);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct tcpcong_conn fresh = {};
	__u64 key = (__u64)ctx->skaddr;
	int newstate = ctx->newstate;

	barrier_var(newstate);
	if (ctx->protocol != SOCK_IPPROTO_TCP)
		return 0;
	if (newstate == SOCK_TCP_ESTABLISHED)
		fresh.family = SOCK_TP_READ_ENDPOINTS(ctx, fresh.laddr, fresh.raddr, &fresh.lport,
						      &fresh.rport);
	on_set_state(key, &fresh, newstate);
	return 0;
}
