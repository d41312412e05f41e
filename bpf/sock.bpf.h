/* CO-RE reads of a TCP socket's identity (family, addresses, ports, state,
 * protocol), the same read from the sock and tcp tracepoints' records, the
 * socket behind a file descriptor, and the address-family and port filters
 * the TCP tools share (filled by common/net_format.h).
 *
 * Addresses are kept as 16 bytes: an IPv4 address in the first 4, network
 * order as on the wire. Ports are in host order. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "files.bpf.h"

#define SOCK_AF_INET	 2
#define SOCK_AF_INET6	 10
#define SOCK_IPPROTO_TCP 6

/* include/net/tcp_states.h */
enum sock_tcp_state {
	SOCK_TCP_ESTABLISHED = 1,
	SOCK_TCP_SYN_SENT = 2,
	SOCK_TCP_SYN_RECV = 3,
	SOCK_TCP_FIN_WAIT1 = 4,
	SOCK_TCP_FIN_WAIT2 = 5,
	SOCK_TCP_TIME_WAIT = 6,
	SOCK_TCP_CLOSE = 7,
	SOCK_TCP_CLOSE_WAIT = 8,
	SOCK_TCP_LAST_ACK = 9,
	SOCK_TCP_LISTEN = 10,
	SOCK_TCP_CLOSING = 11,
	SOCK_TCP_NEW_SYN_RECV = 12,
};

static __always_inline __u16 sock_family(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_family);
}

static __always_inline int sock_state(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_state);
}

/* sk_protocol was an 8-bit bitfield before 5.6 and is a u16 since; the
 * probed bitfield read handles both. */
static __always_inline __u16 sock_protocol(const struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

/* Reads local (s) and remote (d) address and port of sk; returns its family.
 * Addresses of other families are left as they were. */
static __always_inline __u16 sock_read_endpoints(const struct sock *sk, __u8 *saddr, __u8 *daddr,
						 __u16 *sport, __u16 *dport)
{
	__u16 family = sock_family(sk);

	if (family == SOCK_AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)daddr, sk, __sk_common.skc_daddr);
	} else if (family == SOCK_AF_INET6) {
		BPF_CORE_READ_INTO((struct in6_addr *)saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)daddr, sk, __sk_common.skc_v6_daddr);
	}
	/* inet_sport, not skc_num: the move to CLOSE releases the port and
	 * zeroes skc_num before the tracepoint fires. */
	*sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	*dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	return family;
}

/* The same from a tracepoint record that carries family, sport, dport
 * (host order), saddr/daddr[4] and saddr_v6/daddr_v6[16], as
 * sock:inet_sock_set_state and tcp:tcp_retransmit_skb do. A macro because
 * each tracepoint has its own record type. */
#define SOCK_TP_READ_ENDPOINTS(rec, out_saddr, out_daddr, out_sport, out_dport)                    \
	({                                                                                         \
		__u16 __family = (rec)->family;                                                    \
		if (__family == SOCK_AF_INET) {                                                    \
			bpf_probe_read_kernel((out_saddr), 4, (rec)->saddr);                       \
			bpf_probe_read_kernel((out_daddr), 4, (rec)->daddr);                       \
		} else if (__family == SOCK_AF_INET6) {                                            \
			bpf_probe_read_kernel((out_saddr), 16, (rec)->saddr_v6);                   \
			bpf_probe_read_kernel((out_daddr), 16, (rec)->daddr_v6);                   \
		}                                                                                  \
		*(out_sport) = (rec)->sport;                                                       \
		*(out_dport) = (rec)->dport;                                                       \
		__family;                                                                          \
	})

/* The socket behind file descriptor fd of the current task, or NULL. The
 * caller knows fd is a socket (accept() just returned it): a file's
 * private_data is a struct socket only for socket files. */
static __always_inline struct sock *sock_from_fd(int fd)
{
	struct file *file = current_fd_file(fd);
	struct socket *socket;

	if (!file)
		return NULL;
	socket = BPF_CORE_READ(file, private_data);
	if (!socket)
		return NULL;
	return BPF_CORE_READ(socket, sk);
}

/* -4/-6 and port filters. The loader sets the switches in rodata (so the
 * verifier drops the checks a run does not use) and fills port_filter with
 * keys PORT_FILTER_KEY(side, port). */
#define PORT_FILTER_LOCAL	    0
#define PORT_FILTER_REMOTE	    1
#define PORT_FILTER_MAX		    1024
#define PORT_FILTER_KEY(side, port) (((__u32)(side) << 16) | (__u16)(port))

const volatile __u16 filter_family = 0; /* SOCK_AF_INET, SOCK_AF_INET6, or 0: both */
const volatile bool filter_local_ports = false;
const volatile bool filter_remote_ports = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PORT_FILTER_MAX);
	__type(key, __u32);
	__type(value, __u8);
} port_filter SEC(".maps");

/* True for sockets that are not IPv4/IPv6, or that -4/-6 exclude. */
static __always_inline bool family_filtered_out(__u16 family)
{
	if (family != SOCK_AF_INET && family != SOCK_AF_INET6)
		return true;
	return filter_family && family != filter_family;
}

static __always_inline bool ports_filtered_out(__u16 local_port, __u16 remote_port)
{
	__u32 key;

	if (filter_local_ports) {
		key = PORT_FILTER_KEY(PORT_FILTER_LOCAL, local_port);
		if (!bpf_map_lookup_elem(&port_filter, &key))
			return true;
	}
	if (filter_remote_ports) {
		key = PORT_FILTER_KEY(PORT_FILTER_REMOTE, remote_port);
		if (!bpf_map_lookup_elem(&port_filter, &key))
			return true;
	}
	return false;
}
