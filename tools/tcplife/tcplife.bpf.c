// SPDX-License-Identifier: GPL-2.0
/* tcplife: one event per TCP session when it closes, from the
 * sock:inet_sock_set_state tracepoint. The first handshake state
 * (SYN_SENT or SYN_RECV) stamps the birth; the process is taken at the
 * transitions that run in the owning process (connect() -> SYN_SENT,
 * close()/shutdown() -> FIN_WAIT1 or LAST_ACK), because the others run in
 * softirq context under whatever task was interrupted; the move to CLOSE
 * reads the byte counts from struct tcp_sock and reports. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "sock.bpf.h"
#include "tcplife/tcplife.h"

char LICENSE[] SEC("license") = "GPL";

#define TCPLIFE_MAX_SESSIONS 65536

struct ident {
	__u32 pid;
	__u32 uid;
	bool filtered_out; /* by -p, -u, -c, judged in the process */
	char comm[TCPLIFE_COMM_LEN];
};

/* LRU: a socket whose CLOSE was never seen must not pin an entry forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TCPLIFE_MAX_SESSIONS);
	__type(key, __u64);
	__type(value, __u64);
} births SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TCPLIFE_MAX_SESSIONS);
	__type(key, __u64);
	__type(value, struct ident);
} idents SEC(".maps");

static __always_inline void remember_process(__u64 key)
{
	struct ident ident = {};
	__u64 pid_tgid;

	/* The first process to touch the session wins: the connector over
	 * the closer. */
	if (bpf_map_lookup_elem(&idents, &key))
		return;
	pid_tgid = bpf_get_current_pid_tgid();
	ident.pid = pid_tgid >> 32;
	ident.uid = (__u32)bpf_get_current_uid_gid();
	ident.filtered_out = current_filtered_out();
	bpf_get_current_comm(ident.comm, sizeof(ident.comm));
	bpf_map_update_elem(&idents, &key, &ident, BPF_NOEXIST);
}

/* Returns true when the session ended (newstate CLOSE) and was born while
 * tracing, with *birth_ns set. Keeps the births and processes up to date. */
static __always_inline bool track_state(__u64 key, int newstate, __u64 *birth_ns)
{
	__u64 now, *birth;

	if (newstate == SOCK_TCP_SYN_SENT || newstate == SOCK_TCP_SYN_RECV ||
	    newstate == SOCK_TCP_ESTABLISHED) {
		now = bpf_ktime_get_ns();
		bpf_map_update_elem(&births, &key, &now, BPF_NOEXIST);
	}
	if (newstate == SOCK_TCP_SYN_SENT || newstate == SOCK_TCP_FIN_WAIT1 ||
	    newstate == SOCK_TCP_LAST_ACK)
		remember_process(key);
	if (newstate != SOCK_TCP_CLOSE)
		return false;
	birth = bpf_map_lookup_elem(&births, &key);
	if (!birth) {
		bpf_map_delete_elem(&idents, &key);
		return false;
	}
	*birth_ns = *birth;
	bpf_map_delete_elem(&births, &key);
	return true;
}

/* e has family, addresses and ports; the session closes now. */
static __always_inline int report(void *ctx, const struct sock *sk, __u64 key, __u64 birth_ns,
				  struct tcplife_event *e)
{
	struct ident *ident = bpf_map_lookup_elem(&idents, &key);
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	bool filtered_out;

	if (ident) {
		filtered_out = ident->filtered_out;
		e->pid = ident->pid;
		e->uid = ident->uid;
		__builtin_memcpy(e->comm, ident->comm, sizeof(e->comm));
	} else {
		/* Never seen in a process: the best guess is the current one. */
		filtered_out = current_filtered_out();
		e->pid = bpf_get_current_pid_tgid() >> 32;
		e->uid = (__u32)bpf_get_current_uid_gid();
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
	bpf_map_delete_elem(&idents, &key);
	if (filtered_out || family_filtered_out(e->family) ||
	    ports_filtered_out(e->lport, e->rport))
		return 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->duration_ns = e->ts_ns - birth_ns;
	e->tx_bytes = BPF_CORE_READ(tp, bytes_acked);
	e->rx_bytes = BPF_CORE_READ(tp, bytes_received);
	events_output(ctx, e, sizeof(*e));
	return 0;
}

static __always_inline int on_state(void *ctx, const struct sock *sk, int newstate)
{
	struct tcplife_event e = {};
	__u64 key = (__u64)sk;
	__u64 birth_ns;

	if (sock_protocol(sk) != SOCK_IPPROTO_TCP)
		return 0;
	if (!track_state(key, newstate, &birth_ns))
		return 0;
	e.family = sock_read_endpoints(sk, e.laddr, e.raddr, &e.lport, &e.rport);
	return report(ctx, sk, key, birth_ns, &e);
}

/* Tier 1: the BTF-typed tracepoint (5.5+). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(ctx, sk, newstate);
}

/* Tier 2: the raw tracepoint. */
SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(raw_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(ctx, sk, newstate);
}

/* Tier 3: the tracepoint (needs tracefs). */
SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = ctx->skaddr;
	struct tcplife_event e = {};
	__u64 key = (__u64)sk;
	__u64 birth_ns;

	if (ctx->protocol != SOCK_IPPROTO_TCP)
		return 0;
	if (!track_state(key, ctx->newstate, &birth_ns))
		return 0;
	e.family = SOCK_TP_READ_ENDPOINTS(ctx, e.laddr, e.raddr, &e.lport, &e.rport);
	return report(ctx, sk, key, birth_ns, &e);
}
