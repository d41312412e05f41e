// SPDX-License-Identifier: GPL-2.0
/* tcprtt: the smoothed round-trip time of TCP connections as log2
 * histograms. The tcp:tcp_probe tracepoint fires in tcp_rcv_established()
 * for each segment an established connection receives; the socket's srtt
 * then (tcp_sock.srtt_us holds it times 8; the tracepoint's record holds it
 * in microseconds) goes into the histogram of its key. Nothing goes to user
 * space per packet: the loader reads and clears the histograms every
 * interval.
 *
 * Three tiers: tp_btf and raw_tp read the socket; the tracefs tracepoint
 * reads its record, whose addresses are a struct sockaddr_in or
 * sockaddr_in6 in 28 bytes. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "log2.bpf.h"
#include "maps.bpf.h"
#include "sock.bpf.h"
#include "tcprtt/tcprtt.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_laddr = false; /* -b */
const volatile bool per_raddr = false; /* -B */
const volatile bool extended = false;  /* -e: sum the samples too */
const volatile __u32 unit_us = 1;      /* 1 for usecs, 1000 for msecs (-m) */
/* -a and -A: one address each, of this family (0: no filter). */
const volatile __u16 laddr_family = 0;
const volatile __u16 raddr_family = 0;
const volatile __u8 laddr_filter[16] = {};
const volatile __u8 raddr_filter[16] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCPRTT_MAX_KEYS);
	__type(key, struct tcprtt_key);
	__type(value, struct tcprtt_hist);
} hists SEC(".maps");

/* Too large for the stack: the initial value of a new histogram. */
static const struct tcprtt_hist empty_hist;

/* Samples lost because the map was full (a new address past the limit). */
__u64 hists_full = 0;

struct rtt_sample {
	__u16 family;
	__u16 lport;
	__u16 rport;
	__u8 laddr[16];
	__u8 raddr[16];
};

static __always_inline bool need_addresses(void)
{
	return per_laddr || per_raddr || laddr_family || raddr_family;
}

static __always_inline bool addr_matches(__u16 family, const __u8 *addr, __u16 want_family,
					 const volatile __u8 *want)
{
	int n = family == SOCK_AF_INET ? 4 : 16;

	if (family != want_family)
		return false;
	for (int i = 0; i < 16; i++) {
		if (i >= n)
			break;
		if (addr[i] != want[i])
			return false;
	}
	return true;
}

/* s has family, ports and (where need_addresses()) addresses. */
static __always_inline void add_sample(const struct rtt_sample *s, __u32 srtt_us)
{
	struct tcprtt_key key = {};
	struct tcprtt_hist *hist;

	/* No sample taken yet: nothing to say about this connection. */
	if (srtt_us == 0)
		return;
	if (laddr_family && !addr_matches(s->family, s->laddr, laddr_family, laddr_filter))
		return;
	if (raddr_family && !addr_matches(s->family, s->raddr, raddr_family, raddr_filter))
		return;
	if (per_laddr || per_raddr)
		key.family = s->family;
	if (per_laddr)
		__builtin_memcpy(key.laddr, s->laddr, sizeof(key.laddr));
	if (per_raddr)
		__builtin_memcpy(key.raddr, s->raddr, sizeof(key.raddr));
	hist = map_lookup_or_insert(&hists, &key, &empty_hist);
	if (!hist) {
		__sync_fetch_and_add(&hists_full, 1);
		return;
	}
	if (extended) {
		__sync_fetch_and_add(&hist->sum_us, srtt_us);
		__sync_fetch_and_add(&hist->count, 1);
	}
	log2_hist_add(hist->slots, TCPRTT_SLOTS, srtt_us / unit_us);
}

static __always_inline int on_probe(const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	struct rtt_sample s = {};

	s.family = sock_family(sk);
	if (family_filtered_out(s.family))
		return 0;
	if (filter_local_ports || filter_remote_ports) {
		s.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		s.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (ports_filtered_out(s.lport, s.rport))
			return 0;
	}
	if (need_addresses())
		sock_read_endpoints(sk, s.laddr, s.raddr, &s.lport, &s.rport);
	add_sample(&s, BPF_CORE_READ(tp, srtt_us) >> 3);
	return 0;
}

/* Tier 1: the BTF-typed tracepoint. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(btf_probe, const struct sock *sk, const struct sk_buff *skb) { return on_probe(sk); }

/* Tier 2: the raw tracepoint. */
SEC("raw_tp/tcp_probe")
int BPF_PROG(raw_probe, const struct sock *sk, const struct sk_buff *skb) { return on_probe(sk); }

/* The address in a tracepoint's sockaddr field: sockaddr_in's sin_addr at
 * 4, sockaddr_in6's sin6_addr at 8. */
static __always_inline void sockaddr_copy(__u16 family, const __u8 *sa, __u8 *out)
{
	if (family == SOCK_AF_INET)
		__builtin_memcpy(out, sa + 4, 4);
	else
		__builtin_memcpy(out, sa + 8, 16);
}

/* Tier 3: the tracepoint (needs tracefs). Its family is the sockaddr's own
 * (the record's family field came later than the tracepoint). */
SEC("tracepoint/tcp/tcp_probe")
int tp_probe(struct trace_event_raw_tcp_probe *ctx)
{
	struct rtt_sample s = {};
	__u8 saddr[28], daddr[28];

	bpf_probe_read_kernel(saddr, sizeof(saddr), ctx->saddr);
	s.family = *(__u16 *)saddr;
	if (family_filtered_out(s.family))
		return 0;
	s.lport = ctx->sport;
	s.rport = ctx->dport;
	if (ports_filtered_out(s.lport, s.rport))
		return 0;
	if (need_addresses()) {
		bpf_probe_read_kernel(daddr, sizeof(daddr), ctx->daddr);
		sockaddr_copy(s.family, saddr, s.laddr);
		sockaddr_copy(s.family, daddr, s.raddr);
	}
	add_sample(&s, ctx->srtt);
	return 0;
}
