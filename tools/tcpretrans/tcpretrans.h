/* The event and count records tcpretrans's BPF program fills, shared by
 * both sides. Addresses: 16 bytes, IPv4 in the first 4; ports in host
 * order. */
#pragma once

enum tcpretrans_type {
	TCPRETRANS_RETRANSMIT = 0,
	TCPRETRANS_LOSS_PROBE = 1,
};

struct tcpretrans_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u32 pid; /* the task the kernel ran in: often unrelated (timers, softirq) */
	__u32 type; /* enum tcpretrans_type */
	__u32 state; /* TCP state of the socket */
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 lport;
	__u16 rport;
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
};

/* --count: per connection, counted in the kernel. */
struct tcpretrans_count_key {
	__u16 family;
	__u16 lport;
	__u16 rport;
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
};

struct tcpretrans_count {
	__u64 retransmits;
	__u64 loss_probes;
};
