/* The latency of active TCP connects, from sock:inet_sock_set_state alone:
 * connect() moves its socket from CLOSE to SYN_SENT in the calling task
 * (the SYN is sent right after), and the handshake's end moves it out of
 * SYN_SENT: to ESTABLISHED when the SYN-ACK arrives, to CLOSE when the
 * connect fails (refused, timed out, aborted). Shared by tcpconnlat and
 * triage (connect latency percentiles).
 *
 * A user calls tcp_connect_latency_on_state() from its handler of the
 * tracepoint (any tier) with the socket and both states; it stamps the
 * start and, at the end, returns the latency and how the connect ended.
 * The stamps are kept in an LRU hash by socket address, so connects whose
 * end was missed cannot pin entries. Define TCP_CONNECT_LATENCY_MAX to size
 * it. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "sock.bpf.h"

#ifndef TCP_CONNECT_LATENCY_MAX
#define TCP_CONNECT_LATENCY_MAX 16384
#endif

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TCP_CONNECT_LATENCY_MAX);
	__type(key, __u64);
	__type(value, __u64);
} tcp_connect_starts SEC(".maps");

enum tcp_connect_phase {
	TCP_CONNECT_NONE = 0,	 /* not the start or end of a connect */
	TCP_CONNECT_STARTED,	 /* CLOSE -> SYN_SENT: stamped, in the connecting task */
	TCP_CONNECT_ESTABLISHED, /* SYN_SENT -> ESTABLISHED of a stamped socket */
	TCP_CONNECT_FAILED,	 /* SYN_SENT -> anything else (CLOSE) of a stamped socket */
};

/* Stamps a connect's start (call only at CLOSE -> SYN_SENT). */
static __always_inline void tcp_connect_latency_start(const void *sk)
{
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&tcp_connect_starts, &key, &now, BPF_ANY);
}

/* At a socket's move out of SYN_SENT: the time since its stamp in
 * *latency_ns, true if it had one (which goes). */
static __always_inline bool tcp_connect_latency_end(const void *sk, __u64 *latency_ns)
{
	__u64 key = (__u64)sk;
	__u64 *start = bpf_map_lookup_elem(&tcp_connect_starts, &key);

	if (!start)
		return false;
	*latency_ns = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&tcp_connect_starts, &key);
	return true;
}

/* Both in one: stamps at the start (unless stamp is false: a connect the
 * caller's filters do not want), measures at the end. */
static __always_inline enum tcp_connect_phase tcp_connect_latency_on_state(const void *sk,
									   int oldstate,
									   int newstate, bool stamp,
									   __u64 *latency_ns)
{
	if (oldstate == SOCK_TCP_CLOSE && newstate == SOCK_TCP_SYN_SENT) {
		if (!stamp)
			return TCP_CONNECT_NONE;
		tcp_connect_latency_start(sk);
		return TCP_CONNECT_STARTED;
	}
	if (oldstate != SOCK_TCP_SYN_SENT || !tcp_connect_latency_end(sk, latency_ns))
		return TCP_CONNECT_NONE;
	return newstate == SOCK_TCP_ESTABLISHED ? TCP_CONNECT_ESTABLISHED : TCP_CONNECT_FAILED;
}
