// SPDX-License-Identifier: GPL-2.0
/* tcppktlat: how long received TCP data waits in the socket before the
 * application reads it. tcp:tcp_probe fires as an established socket
 * receives a segment (softirq, or the owner's release_sock() for segments
 * that queued on its backlog while it held the lock): the arrival of the
 * oldest unread segment that carries data is stamped per socket.
 * tcp:tcp_rcv_space_adjust fires in the reading process each time
 * tcp_recvmsg() has copied data out: the wait is from that stamp to now,
 * reported in the reader's context (the current task is the reader), and
 * the stamp goes, so the next segment to arrive starts the next wait. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "sock.bpf.h"
#include "tcppktlat/tcppktlat.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_wait_ns = 0;

/* Socket (its address, or on the tracefs tier of a kernel whose tcp_probe
 * record has no skaddr, its cookie) -> arrival of its oldest unread data.
 * LRU: a socket closed with data unread must not pin an entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} arrivals SEC(".maps");

static __always_inline void arrived(__u64 key, __u32 data_len)
{
	__u64 now;

	if (!data_len)
		return; /* a pure ACK, nothing to read */
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&arrivals, &key, &now, BPF_NOEXIST);
}

/* The payload of the segment tcp_probe sees: its length past the TCP
 * header, as the tracepoint's own data_len. */
static __always_inline __u32 payload_len(const struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 transport = BPF_CORE_READ(skb, transport_header);
	const struct tcphdr *th = (const struct tcphdr *)(head + transport);
	__u32 len = BPF_CORE_READ(skb, len);
	__u32 header = (__u32)BPF_CORE_READ_BITFIELD_PROBED(th, doff) * 4;

	return len > header ? len - header : 0;
}

/* The read: e has the endpoints. */
static __always_inline int read_data(void *ctx, __u64 key, struct tcppktlat_event *e)
{
	__u64 *arrival = bpf_map_lookup_elem(&arrivals, &key);
	__u64 now, pid_tgid;

	if (!arrival)
		return 0;
	now = bpf_ktime_get_ns();
	e->wait_ns = now > *arrival ? now - *arrival : 0;
	bpf_map_delete_elem(&arrivals, &key);
	if (e->wait_ns < min_wait_ns || current_filtered_out() || family_filtered_out(e->family) ||
	    ports_filtered_out(e->lport, e->rport))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	e->ts_ns = now;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	events_output(ctx, e, sizeof(*e));
	return 0;
}

static __always_inline int read_sock(void *ctx, const struct sock *sk)
{
	struct tcppktlat_event e = {};

	e.family = sock_read_endpoints(sk, e.laddr, e.raddr, &e.lport, &e.rport);
	return read_data(ctx, (__u64)sk, &e);
}

/* Tier 1: BTF-typed tracepoints. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(btf_probe, const struct sock *sk, const struct sk_buff *skb)
{
	arrived((__u64)sk, payload_len(skb));
	return 0;
}

SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(btf_rcv_space_adjust, const struct sock *sk) { return read_sock(ctx, sk); }

/* Tier 2: raw tracepoints. */
SEC("raw_tp/tcp_probe")
int BPF_PROG(raw_probe, const struct sock *sk, const struct sk_buff *skb)
{
	arrived((__u64)sk, payload_len(skb));
	return 0;
}

SEC("raw_tp/tcp_rcv_space_adjust")
int BPF_PROG(raw_rcv_space_adjust, const struct sock *sk) { return read_sock(ctx, sk); }

/* Tier 3: the tracepoints through tracefs. Older tcp_probe records have no
 * skaddr: both sides then key by the socket's cookie. */
struct trace_event_raw_tcp_probe___new {
	const void *skaddr;
} __attribute__((preserve_access_index));

static __always_inline bool probe_has_skaddr(void)
{
	return bpf_core_field_exists(((struct trace_event_raw_tcp_probe___new *)0)->skaddr);
}

SEC("tracepoint/tcp/tcp_probe")
int tp_probe(struct trace_event_raw_tcp_probe *ctx)
{
	__u64 key = probe_has_skaddr()
			    ? (__u64)BPF_CORE_READ((struct trace_event_raw_tcp_probe___new *)ctx,
						   skaddr)
			    : ctx->sock_cookie;

	arrived(key, ctx->data_len);
	return 0;
}

SEC("tracepoint/tcp/tcp_rcv_space_adjust")
int tp_rcv_space_adjust(struct trace_event_raw_tcp_event_sk *ctx)
{
	struct tcppktlat_event e = {};
	__u64 key = probe_has_skaddr() ? (__u64)ctx->skaddr : ctx->sock_cookie;

	e.family = SOCK_TP_READ_ENDPOINTS(ctx, e.laddr, e.raddr, &e.lport, &e.rport);
	return read_data(ctx, key, &e);
}
