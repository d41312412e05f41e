// SPDX-License-Identifier: GPL-2.0
/* tcpdrop: packets the kernel dropped, from the skb:kfree_skb tracepoint,
 * which carries the drop reason (enum skb_drop_reason, 5.17+) and, since
 * 6.11, the receiving socket. TCP packets only, or every packet with --all.
 *
 * Most drops happen in softirq context, where the current task is not the
 * socket's owner: the owner comes from bpf/sock_owners.bpf.h, filled where
 * the owner's own system calls act on the socket (connect's move to
 * SYN_SENT, listen's to LISTEN, the return of accept). A drop whose socket
 * was never seen so, or that has no socket, is reported with the owner
 * unknown.
 *
 * Addresses and ports come from the packet's IP and TCP/UDP headers where
 * the packet has them, else from its socket (a packet not yet given
 * headers, on its way out). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "maps.bpf.h"
#include "sock.bpf.h"
#include "sock_owners.bpf.h"
#include "syscall_nr.bpf.h"
#include "tcpdrop/tcpdrop.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP_	 0x0800
#define ETH_P_IPV6_	 0x86DD
#define IPPROTO_TCP_	 6
#define IPPROTO_UDP_	 17
#define IPPROTO_UDPLITE_ 136
#define IPPROTO_SCTP_	 132
#define HEADER_UNSET	 0xffff

const volatile bool all_drops = false; /* --all: not only TCP */
const volatile bool with_stack = true; /* false: --no-stack (the walk is most of the cost) */
/* The loader sets these from the kernel's tracepoint (its BTF prototype):
 * kfree_skb gained its reason in 5.17 and the receiving socket in 6.11. */
const volatile bool kfree_skb_has_reason = true;
const volatile bool kfree_skb_has_rx_sk = false;
/* corescope export: count the drops by reason (drop_counts) and send no
 * events; drops_uncounted when the table is full. */
const volatile bool counts_only = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCPDROP_REASONS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drop_counts SEC(".maps");

__u64 drops_uncounted = 0;

EVENT_SCRATCH(struct tcpdrop_event, scratch);

/* Threads inside accept() (raw tracepoint tier only). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} accepting SEC(".maps");

/* SKB_CONSUMED and kfree_skb's rx_sk (newer than 6.1), written out
 * (flavoured) so that the program also compiles against a vmlinux.h older
 * than them (arm64's, from 6.1). */
enum skb_drop_reason___new {
	SKB_CONSUMED___new = 1,
};

struct trace_event_raw_kfree_skb___new {
	void *rx_sk;
} __attribute__((preserve_access_index));

/* Not drops: the kernel's marks for a packet freed after use. 6.18 sends
 * those to skb:consume_skb, but a kernel may still pass them here. */
static __always_inline bool not_a_drop(__u32 reason)
{
	if (bpf_core_enum_value_exists(enum skb_drop_reason___new, SKB_CONSUMED___new) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason___new, SKB_CONSUMED___new))
		return true;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_NOT_DROPPED_YET) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_NOT_DROPPED_YET))
		return true;
	return false;
}

/* Reads the ports (and, for TCP, the flags) at the transport header. */
static __always_inline void read_transport(struct tcpdrop_event *e, const unsigned char *l4)
{
	__u16 ports[2];

	if (e->ip_proto != IPPROTO_TCP_ && e->ip_proto != IPPROTO_UDP_ &&
	    e->ip_proto != IPPROTO_UDPLITE_ && e->ip_proto != IPPROTO_SCTP_)
		return;
	if (bpf_probe_read_kernel(ports, sizeof(ports), l4) == 0) {
		e->sport = bpf_ntohs(ports[0]);
		e->dport = bpf_ntohs(ports[1]);
	}
	if (e->ip_proto == IPPROTO_TCP_ && bpf_probe_read_kernel(&e->tcp_flags, 1, l4 + 13) == 0)
		e->has_flags = 1;
}

/* The packet's own headers, where it has IP ones. Returns false otherwise. */
static __always_inline bool read_headers(struct tcpdrop_event *e, const struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 network = BPF_CORE_READ(skb, network_header);
	__u16 transport = BPF_CORE_READ(skb, transport_header);
	const unsigned char *l3, *l4;
	__u8 first;

	if (e->protocol != ETH_P_IP_ && e->protocol != ETH_P_IPV6_)
		return false;
	if (!head || network == HEADER_UNSET)
		return false;
	l3 = head + network;
	if (bpf_probe_read_kernel(&first, 1, l3))
		return false;
	if (e->protocol == ETH_P_IP_ && (first >> 4) == 4 && (first & 0xf) >= 5) {
		e->family = SOCK_AF_INET;
		bpf_probe_read_kernel(&e->ip_proto, 1, l3 + 9);
		bpf_probe_read_kernel(e->saddr, 4, l3 + 12);
		bpf_probe_read_kernel(e->daddr, 4, l3 + 16);
		l4 = l3 + (first & 0xf) * 4;
	} else if (e->protocol == ETH_P_IPV6_ && (first >> 4) == 6) {
		e->family = SOCK_AF_INET6;
		bpf_probe_read_kernel(&e->ip_proto, 1, l3 + 6);
		bpf_probe_read_kernel(e->saddr, 16, l3 + 8);
		bpf_probe_read_kernel(e->daddr, 16, l3 + 24);
		l4 = l3 + 40;
	} else {
		return false;
	}
	/* The transport header, once set, is the one to trust (IPv6 extension
	 * headers lie between). */
	if (transport != HEADER_UNSET && transport > network)
		l4 = head + transport;
	read_transport(e, l4);
	e->source = TCPDROP_FROM_PACKET;
	return true;
}

/* sk may be a full socket, a request socket or a time-wait socket: only
 * their common part (struct sock_common) is read here. */
static __always_inline void read_socket(struct tcpdrop_event *e, const struct sock *sk,
					bool headers)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	bool full = state != SOCK_TCP_TIME_WAIT && state != SOCK_TCP_NEW_SYN_RECV;
	bool tcp;

	if (headers) {
		tcp = e->ip_proto == IPPROTO_TCP_;
	} else {
		if (!full)
			tcp = true; /* only TCP has these */
		else
			tcp = sock_protocol(sk) == SOCK_IPPROTO_TCP;
		e->family = family;
		if (family == SOCK_AF_INET || family == SOCK_AF_INET6) {
			if (full) {
				e->ip_proto = tcp ? IPPROTO_TCP_ : (__u8)sock_protocol(sk);
				sock_read_endpoints(sk, e->saddr, e->daddr, &e->sport, &e->dport);
			} else {
				e->ip_proto = IPPROTO_TCP_;
				if (family == SOCK_AF_INET) {
					BPF_CORE_READ_INTO((__u32 *)e->saddr, sk,
							   __sk_common.skc_rcv_saddr);
					BPF_CORE_READ_INTO((__u32 *)e->daddr, sk,
							   __sk_common.skc_daddr);
				} else {
					BPF_CORE_READ_INTO((struct in6_addr *)e->saddr, sk,
							   __sk_common.skc_v6_rcv_saddr);
					BPF_CORE_READ_INTO((struct in6_addr *)e->daddr, sk,
							   __sk_common.skc_v6_daddr);
				}
				e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
				e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
			}
			e->source = TCPDROP_FROM_SOCKET;
		}
	}
	if (tcp && (family == SOCK_AF_INET || family == SOCK_AF_INET6))
		e->state = state;
}

static __always_inline bool ports_wanted(const struct tcpdrop_event *e)
{
	__u32 key;

	if (!filter_local_ports)
		return true;
	key = PORT_FILTER_KEY(PORT_FILTER_LOCAL, e->sport);
	if (bpf_map_lookup_elem(&port_filter, &key))
		return true;
	key = PORT_FILTER_KEY(PORT_FILTER_LOCAL, e->dport);
	return bpf_map_lookup_elem(&port_filter, &key) != NULL;
}

static __always_inline int on_drop(void *ctx, const struct sk_buff *skb, __u64 location,
				   __u32 reason, const struct sock *rx_sk)
{
	const struct sock_owner *owner = NULL;
	struct tcpdrop_event *e;
	const struct sock *sk;
	bool headers;
	long bytes;

	if (!skb || not_a_drop(reason))
		return 0;
	e = scratch_get(&scratch);
	if (!e)
		return 0;
	__builtin_memset(e, 0, offsetof(struct tcpdrop_event, stack));
	e->reason = reason;
	e->location = location;
	e->protocol = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	headers = read_headers(e, skb);
	sk = BPF_CORE_READ(skb, sk);
	if (!sk)
		sk = rx_sk;
	if (sk)
		read_socket(e, sk, headers);
	if (!all_drops && e->ip_proto != IPPROTO_TCP_)
		return 0;
	if (filter_family && e->family != filter_family)
		return 0;
	if (!ports_wanted(e))
		return 0;
	if (counts_only) {
		if (!map_count(&drop_counts, &reason))
			__sync_fetch_and_add(&drops_uncounted, 1);
		return 0;
	}
	if (sk)
		owner = sock_owner_of(sk);
	if (sock_owner_filtered_out(owner))
		return 0;
	e->owner_known = SOCK_OWNER_FILL(e, owner);
	e->ts_ns = bpf_ktime_get_ns();
	bytes = with_stack ? bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0) : 0;
	if (bytes < 0)
		bytes = 0;
	e->stack_frames = bytes / sizeof(__u64);
	events_output_prefix(ctx, e, offsetof(struct tcpdrop_event, stack) + bytes, sizeof(*e));
	return 0;
}

/* Drops, tier 1: the BTF-typed tracepoint. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(btf_kfree_skb, const struct sk_buff *skb, void *location)
{
	__u32 reason = kfree_skb_has_reason ? (__u32)ctx[2] : 0;
	const struct sock *rx_sk = kfree_skb_has_rx_sk ? (const struct sock *)ctx[3] : NULL;

	return on_drop(ctx, skb, (__u64)location, reason, rx_sk);
}

/* Tier 2: the raw tracepoint. */
SEC("raw_tp/kfree_skb")
int BPF_PROG(raw_kfree_skb, const struct sk_buff *skb, void *location)
{
	__u32 reason = kfree_skb_has_reason ? (__u32)ctx[2] : 0;
	const struct sock *rx_sk = kfree_skb_has_rx_sk ? (const struct sock *)ctx[3] : NULL;

	return on_drop(ctx, skb, (__u64)location, reason, rx_sk);
}

/* Tier 3: the tracepoint (needs tracefs). */
SEC("tracepoint/skb/kfree_skb")
int tp_kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	__u32 reason = 0;
	const struct sock *rx_sk = NULL;

	if (bpf_core_field_exists(ctx->reason))
		reason = ctx->reason;
	if (bpf_core_field_exists(((struct trace_event_raw_kfree_skb___new *)ctx)->rx_sk))
		rx_sk = BPF_CORE_READ((struct trace_event_raw_kfree_skb___new *)ctx, rx_sk);
	return on_drop(ctx, ctx->skbaddr, (__u64)ctx->location, reason, rx_sk);
}

/* Socket owners: connect() moves a socket to SYN_SENT and listen() to
 * LISTEN in the owner's own system call. The move to CLOSE forgets it. */
static __always_inline int on_state(const struct sock *sk, int newstate)
{
	if (newstate == SOCK_TCP_SYN_SENT || newstate == SOCK_TCP_LISTEN)
		sock_owner_remember(sk);
	else if (newstate == SOCK_TCP_CLOSE)
		sock_owner_forget(sk);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(sk, newstate);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(raw_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(sk, newstate);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	return on_state(ctx->skaddr, ctx->newstate);
}

/* Socket owners: the connection accept() returns, in the accepting
 * process. */
static __always_inline int on_accepted(long ret)
{
	if (ret >= 0)
		sock_owner_remember(sock_from_fd((int)ret));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_exit_accept4(struct trace_event_raw_sys_exit *ctx) { return on_accepted(ctx->ret); }

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_exit_accept(struct trace_event_raw_sys_exit *ctx) { return on_accepted(ctx->ret); }

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = ctx->args[1];
	__u32 tid;
	__u8 one = 1;

	if (nr != SYSCALL_NR_ACCEPT && nr != SYSCALL_NR_ACCEPT4)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&accepting, &tid, &one, BPF_ANY);
	return 0;
}

SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!bpf_map_lookup_elem(&accepting, &tid))
		return 0;
	bpf_map_delete_elem(&accepting, &tid);
	return on_accepted(ctx->args[1]);
}
