/* tcpsubnet's subnets and counts, shared by both sides. The loader writes
 * the subnets (in the order given: the first that matches a destination
 * counts its bytes) into rodata; the kernel adds each TCP send's bytes to
 * its subnet's slot of a per-CPU array that user space reads every
 * interval. */
#pragma once

#define TCPSUBNET_MAX 64

struct tcpsubnet_net {
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 prefix; /* bits */
	__u32 pad;
	__u8 addr[16]; /* network order, IPv4 in the first 4; bits past the prefix zero */
	__u8 mask[16]; /* prefix bits set */
};

/* The per-CPU array's slots: one per subnet, then the bytes sent to no
 * subnet of the list. */
#define TCPSUBNET_UNMATCHED TCPSUBNET_MAX
#define TCPSUBNET_SLOTS	    (TCPSUBNET_MAX + 1)
