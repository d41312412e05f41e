/* Bytes TCP sockets send and receive, seen in the process that sends or
 * receives them (tcptop, tcpsubnet). The programs here are the tiers; the
 * tool says what to do with each count by defining, after including this
 * header,
 *
 *   static __always_inline void tcp_bytes_seen(const struct sock *sk,
 *                                              __u32 bytes, bool sent);
 *
 * which runs in the process context of the system call that moved the
 * bytes (the current task is the socket's user), for TCP sockets only, with
 * bytes > 0. common/tcp_bytes.h lists the tiers for the attach plan:
 *
 * 1. sock:sock_send_length / sock:sock_recv_length (6.3+), as tp_btf,
 *    raw_tp or tracefs tracepoint: the result of every sendmsg/recvmsg on a
 *    socket (write, send*, read, recv*, splice...). Peeks (MSG_PEEK) move
 *    nothing and are not counted. In-kernel users that call the protocol's
 *    sendmsg directly are not seen.
 * 2. fexit tcp_sendmsg (its return: the bytes queued) and fentry
 *    tcp_cleanup_rbuf (its copied argument: the bytes read).
 * 3. kprobe + kretprobe tcp_sendmsg and kprobe tcp_cleanup_rbuf.
 *
 * On tiers 2 and 3 a receive that waits for more data after copying some
 * (MSG_WAITALL, SO_RCVLOWAT) runs tcp_cleanup_rbuf before it sleeps as well
 * as at its end, so its bytes can be counted twice, and a MSG_PEEK read is
 * counted as read. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sock.bpf.h"

#define TCP_BYTES_MSG_PEEK 2 /* include/linux/socket.h */

static __always_inline void tcp_bytes_seen(const struct sock *sk, __u32 bytes, bool sent);

/* A socket's sendmsg/recvmsg result from the sock tracepoints: ret bytes or
 * an error, flags the message's. */
static __always_inline int tcp_bytes_from_length(const struct sock *sk, __u16 protocol, int ret,
						 int flags, bool sent)
{
	if (ret <= 0 || protocol != SOCK_IPPROTO_TCP)
		return 0;
	if (!sent && (flags & TCP_BYTES_MSG_PEEK))
		return 0;
	tcp_bytes_seen(sk, (__u32)ret, sent);
	return 0;
}

/* Tier 1: the sock tracepoints (6.3+), BTF-typed, raw, or through tracefs. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(btf_send_length, struct sock *sk, int ret, int flags)
{
	return tcp_bytes_from_length(sk, sock_protocol(sk), ret, flags, true);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(btf_recv_length, struct sock *sk, int ret, int flags)
{
	return tcp_bytes_from_length(sk, sock_protocol(sk), ret, flags, false);
}

SEC("raw_tp/sock_send_length")
int BPF_PROG(raw_send_length, struct sock *sk, int ret, int flags)
{
	return tcp_bytes_from_length(sk, sock_protocol(sk), ret, flags, true);
}

SEC("raw_tp/sock_recv_length")
int BPF_PROG(raw_recv_length, struct sock *sk, int ret, int flags)
{
	return tcp_bytes_from_length(sk, sock_protocol(sk), ret, flags, false);
}

/* The record (6.3+), written out (flavoured) so that this also compiles
 * against a vmlinux.h older than it (arm64's, from 6.1). */
struct trace_event_raw_sock_msg_length___new {
	void *sk;
	__u16 protocol;
	int ret;
	int flags;
} __attribute__((preserve_access_index));

SEC("tracepoint/sock/sock_send_length")
int tp_send_length(struct trace_event_raw_sock_msg_length___new *ctx)
{
	return tcp_bytes_from_length(ctx->sk, ctx->protocol, ctx->ret, ctx->flags, true);
}

SEC("tracepoint/sock/sock_recv_length")
int tp_recv_length(struct trace_event_raw_sock_msg_length___new *ctx)
{
	return tcp_bytes_from_length(ctx->sk, ctx->protocol, ctx->ret, ctx->flags, false);
}

/* Tier 2: fexit/fentry on the TCP functions. */
SEC("fexit/tcp_sendmsg")
int BPF_PROG(fexit_tcp_sendmsg, struct sock *sk, struct msghdr *msg, size_t size, int ret)
{
	if (ret > 0)
		tcp_bytes_seen(sk, (__u32)ret, true);
	return 0;
}

SEC("fentry/tcp_cleanup_rbuf")
int BPF_PROG(fentry_tcp_cleanup_rbuf, struct sock *sk, int copied)
{
	if (copied > 0)
		tcp_bytes_seen(sk, (__u32)copied, false);
	return 0;
}

/* Tier 3: kprobes. tcp_sendmsg's socket is kept per thread from entry to
 * return. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} tcp_bytes_sending SEC(".maps");

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(kprobe_tcp_sendmsg, struct sock *sk)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 sk_addr = (__u64)sk;

	bpf_map_update_elem(&tcp_bytes_sending, &tid, &sk_addr, BPF_ANY);
	return 0;
}

SEC("kretprobe/tcp_sendmsg")
int BPF_KRETPROBE(kretprobe_tcp_sendmsg, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *sk_addr = bpf_map_lookup_elem(&tcp_bytes_sending, &tid);

	if (!sk_addr)
		return 0;
	if (ret > 0)
		tcp_bytes_seen((const struct sock *)*sk_addr, (__u32)ret, true);
	bpf_map_delete_elem(&tcp_bytes_sending, &tid);
	return 0;
}

SEC("kprobe/tcp_cleanup_rbuf")
int BPF_KPROBE(kprobe_tcp_cleanup_rbuf, struct sock *sk, int copied)
{
	if (copied > 0)
		tcp_bytes_seen(sk, (__u32)copied, false);
	return 0;
}
