// SPDX-License-Identifier: GPL-2.0
/* tcpretrans: TCP retransmissions, from the tcp:tcp_retransmit_skb
 * tracepoint, and optionally tail loss probes, which have no tracepoint and
 * need fentry or a kprobe on tcp_send_loss_probe(). Events go to user
 * space; with --count they are counted here per connection instead. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "maps.bpf.h"
#include "sock.bpf.h"
#include "tcpretrans/tcpretrans.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool count_mode = false;
/* corescope export: only the totals (struct tcpretrans_totals), no events. */
const volatile bool counts_only = false;

struct tcpretrans_totals totals = {};
/* Newer kernels also fire tcp_retransmit_skb for attempts that failed (no
 * segment left), with the error as a third argument; the loader sets this
 * when the kernel's tracepoint has it. Failed attempts are not reported. */
const volatile bool retransmit_has_err = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct tcpretrans_count_key);
	__type(value, struct tcpretrans_count);
} counts SEC(".maps");

/* Retransmissions --count could not count because the table was full. */
__u64 counts_dropped = 0;

static __always_inline void count_event(const struct tcpretrans_event *e)
{
	struct tcpretrans_count_key key = {};
	struct tcpretrans_count zero = {}, *count;

	key.family = e->family;
	key.lport = e->lport;
	key.rport = e->rport;
	__builtin_memcpy(key.laddr, e->laddr, sizeof(key.laddr));
	__builtin_memcpy(key.raddr, e->raddr, sizeof(key.raddr));
	count = map_lookup_or_insert(&counts, &key, &zero);
	if (!count) {
		__sync_fetch_and_add(&counts_dropped, 1);
		return;
	}
	if (e->type == TCPRETRANS_LOSS_PROBE)
		__sync_fetch_and_add(&count->loss_probes, 1);
	else
		__sync_fetch_and_add(&count->retransmits, 1);
}

/* e has family, addresses, ports and state; fills in the rest and reports
 * it. */
static __always_inline int report(void *ctx, struct tcpretrans_event *e, __u32 type)
{
	if (family_filtered_out(e->family))
		return 0;
	e->type = type;
	if (counts_only) {
		if (type == TCPRETRANS_LOSS_PROBE)
			__sync_fetch_and_add(&totals.loss_probes, 1);
		else
			__sync_fetch_and_add(&totals.retransmits, 1);
		return 0;
	}
	if (count_mode) {
		count_event(e);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	events_output(ctx, e, sizeof(*e));
	return 0;
}

static __always_inline int on_sock(void *ctx, const struct sock *sk, __u32 type)
{
	struct tcpretrans_event e = {};

	e.family = sock_read_endpoints(sk, e.laddr, e.raddr, &e.lport, &e.rport);
	e.state = sock_state(sk);
	return report(ctx, &e, type);
}

/* Retransmissions, tier 1: the BTF-typed tracepoint. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(btf_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	/* Only read on kernels whose tracepoint has the argument. */
	if (retransmit_has_err && (int)ctx[2] != 0)
		return 0;
	return on_sock(ctx, sk, TCPRETRANS_RETRANSMIT);
}

/* Tier 2: the raw tracepoint. */
SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(raw_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	if (retransmit_has_err && (int)ctx[2] != 0)
		return 0;
	return on_sock(ctx, sk, TCPRETRANS_RETRANSMIT);
}

/* Until tcp_retransmit_skb got a record of its own (newer kernels, with err),
 * it shared the tcp_event_sk_skb class's: the same fields up to daddr_v6.
 * Debian 12's 6.1 has only this one, so the record type is chosen at load. */
struct trace_event_raw_tcp_event_sk_skb___shared {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
} __attribute__((preserve_access_index));

/* The record of its own (newer than 6.1), written out (flavoured) so that
 * the program also compiles against a vmlinux.h older than it (arm64's,
 * from 6.1). */
struct trace_event_raw_tcp_retransmit_skb___new {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
	int err;
} __attribute__((preserve_access_index));

/* Tier 3: the tracepoint (needs tracefs). Its record has grown over the
 * years; fields an older kernel lacks are read from the socket. */
SEC("tracepoint/tcp/tcp_retransmit_skb")
int tp_retransmit(void *raw)
{
	struct trace_event_raw_tcp_retransmit_skb___new *ctx = raw;
	struct tcpretrans_event e = {};

	if (!bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb___new)) {
		struct trace_event_raw_tcp_event_sk_skb___shared *shared = raw;

		e.family = SOCK_TP_READ_ENDPOINTS(shared, e.laddr, e.raddr, &e.lport, &e.rport);
		e.state = shared->state;
		return report(raw, &e, TCPRETRANS_RETRANSMIT);
	}
	const struct sock *sk = ctx->skaddr;

	if (bpf_core_field_exists(ctx->err) && ctx->err != 0)
		return 0;
	if (bpf_core_field_exists(ctx->family))
		e.family = SOCK_TP_READ_ENDPOINTS(ctx, e.laddr, e.raddr, &e.lport, &e.rport);
	else
		e.family = sock_read_endpoints(sk, e.laddr, e.raddr, &e.lport, &e.rport);
	if (bpf_core_field_exists(ctx->state))
		e.state = ctx->state;
	else
		e.state = sock_state(sk);
	return report(ctx, &e, TCPRETRANS_RETRANSMIT);
}

/* Tail loss probes (-l): no tracepoint, so fentry, or a kprobe. */
SEC("fentry/tcp_send_loss_probe")
int BPF_PROG(fentry_loss_probe, struct sock *sk) { return on_sock(ctx, sk, TCPRETRANS_LOSS_PROBE); }

SEC("kprobe/tcp_send_loss_probe")
int BPF_KPROBE(kprobe_loss_probe, struct sock *sk)
{
	return on_sock(ctx, sk, TCPRETRANS_LOSS_PROBE);
}
