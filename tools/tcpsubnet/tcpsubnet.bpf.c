// SPDX-License-Identifier: GPL-2.0
/* tcpsubnet: bytes sent over TCP, summed by the destination's subnet (the
 * first of the list that holds it). The send hooks are
 * bpf/tcp_bytes.bpf.h's; they run in the sending process, so the process
 * filters apply. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "filters.bpf.h"
#include "sock.bpf.h"
#include "tcp_bytes.bpf.h"
#include "tcpsubnet/tcpsubnet.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct tcpsubnet_net subnets[TCPSUBNET_MAX] = {};
const volatile __u32 subnet_count = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPSUBNET_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} sent SEC(".maps");

static __always_inline bool in_subnet(__u32 i, __u16 family, const __u32 *addr)
{
	const volatile struct tcpsubnet_net *net = &subnets[i];
	const volatile __u32 *want = (const volatile __u32 *)net->addr;
	const volatile __u32 *mask = (const volatile __u32 *)net->mask;

	if (net->family != family)
		return false;
	return (addr[0] & mask[0]) == want[0] && (addr[1] & mask[1]) == want[1] &&
	       (addr[2] & mask[2]) == want[2] && (addr[3] & mask[3]) == want[3];
}

static __always_inline void tcp_bytes_seen(const struct sock *sk, __u32 n, bool is_sent)
{
	__u32 raddr[4] = {}, laddr[4] = {};
	__u16 lport, rport, family;
	__u32 slot = TCPSUBNET_UNMATCHED;
	__u64 *count;

	if (!is_sent || current_filtered_out())
		return;
	family = sock_read_endpoints(sk, (__u8 *)laddr, (__u8 *)raddr, &lport, &rport);
	if (family_filtered_out(family))
		return;
	/* An IPv4 peer of an IPv6 socket (::ffff:a.b.c.d) is in IPv4's
	 * subnets. */
	if (family == SOCK_AF_INET6 && raddr[0] == 0 && raddr[1] == 0 &&
	    raddr[2] == bpf_htonl(0xffff)) {
		family = SOCK_AF_INET;
		raddr[0] = raddr[3];
		raddr[3] = 0;
	}
	for (__u32 i = 0; i < TCPSUBNET_MAX; i++) {
		if (i >= subnet_count)
			break;
		if (in_subnet(i, family, raddr)) {
			slot = i;
			break;
		}
	}
	count = bpf_map_lookup_elem(&sent, &slot);
	if (count)
		*count += n;
}
