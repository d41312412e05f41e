// SPDX-License-Identifier: GPL-2.0
/* tcpsynbl: how long a listening socket's backlog (its queue of
 * connections that completed the handshake and wait for accept()) is each
 * time a connection completes, as log2 histograms per backlog limit.
 *
 * Two routes, the first the kernel allows:
 * - fentry, or a kprobe, on tcp_v4_syn_recv_sock / tcp_v6_syn_recv_sock,
 *   which run for each completed handshake before the child is queued
 *   (or refused, the queue being full): the length it found;
 * - sock:sk_data_ready on a LISTEN socket (tp_btf, raw_tp, tracepoint),
 *   which the kernel fires right after it queued a child: the length then,
 *   less the one just queued. A reduced form: a connection refused
 *   because the queue was full is not seen, and an accept() on another CPU
 *   between the two can make one sample short by one. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hist_sums.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "sock.bpf.h"
#include "tcpsynbl/tcpsynbl.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_port = false; /* --per-port */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCPSYNBL_MAX_KEYS);
	__type(key, struct tcpsynbl_key);
	__type(value, struct tcpsynbl_hist);
} hists SEC(".maps");

HIST_SUMS(struct tcpsynbl_key)

static const struct tcpsynbl_hist empty_hist;

/* Samples lost because the map was full. */
__u64 hists_full = 0;

/* after_enqueue: the length counts the connection that was just queued. */
static __always_inline int add_backlog(const struct sock *sk, bool after_enqueue)
{
	struct tcpsynbl_key key = {};
	struct tcpsynbl_hist *hist;
	__u16 family = sock_family(sk);
	__u32 backlog;

	if (family_filtered_out(family))
		return 0;
	backlog = BPF_CORE_READ(sk, sk_ack_backlog);
	if (after_enqueue && backlog > 0)
		backlog--;
	key.backlog_max = BPF_CORE_READ(sk, sk_max_ack_backlog);
	if (per_port) {
		key.family = family;
		key.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	}
	hist = map_lookup_or_insert(&hists, &key, &empty_hist);
	if (!hist) {
		__sync_fetch_and_add(&hists_full, 1);
		return 0;
	}
	log2_hist_add(hist->slots, TCPSYNBL_SLOTS, backlog);
	hist_sum_add(&key, backlog);
	return 0;
}

/* Route 1: the handshake's completion. */
SEC("fentry/tcp_v4_syn_recv_sock")
int BPF_PROG(fentry_v4, const struct sock *sk) { return add_backlog(sk, false); }

SEC("fentry/tcp_v6_syn_recv_sock")
int BPF_PROG(fentry_v6, const struct sock *sk) { return add_backlog(sk, false); }

SEC("kprobe/tcp_v4_syn_recv_sock")
int BPF_KPROBE(kprobe_v4, const struct sock *sk) { return add_backlog(sk, false); }

SEC("kprobe/tcp_v6_syn_recv_sock")
int BPF_KPROBE(kprobe_v6, const struct sock *sk) { return add_backlog(sk, false); }

/* Route 2: a listening TCP socket told it has a connection to accept. */
static __always_inline int on_data_ready(const struct sock *sk)
{
	if (sock_protocol(sk) != SOCK_IPPROTO_TCP || sock_state(sk) != SOCK_TCP_LISTEN)
		return 0;
	return add_backlog(sk, true);
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(btf_data_ready, const struct sock *sk) { return on_data_ready(sk); }

SEC("raw_tp/sk_data_ready")
int BPF_PROG(raw_data_ready, const struct sock *sk) { return on_data_ready(sk); }

/* The record names the socket; the rest is read from it. The record (newer
 * than 6.1), written out (flavoured) so that the program also compiles
 * against a vmlinux.h older than it (arm64's, from 6.1). */
struct trace_event_raw_sk_data_ready___new {
	const void *skaddr;
	__u16 protocol;
} __attribute__((preserve_access_index));

SEC("tracepoint/sock/sk_data_ready")
int tp_data_ready(struct trace_event_raw_sk_data_ready___new *ctx)
{
	if (ctx->protocol != SOCK_IPPROTO_TCP)
		return 0;
	return on_data_ready(ctx->skaddr);
}
