/* The event tcplife's BPF program sends when a TCP session closes, shared
 * by both sides. Addresses: 16 bytes, IPv4 in the first 4; ports in host
 * order. */
#pragma once

#define TCPLIFE_COMM_LEN 16

struct tcplife_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the move to CLOSE */
	__u64 duration_ns; /* from the first handshake state to CLOSE */
	__u64 tx_bytes; /* bytes sent and acknowledged by the peer */
	__u64 rx_bytes; /* bytes received */
	__u32 pid; /* the process that opened or closed the session */
	__u32 uid;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 lport;
	__u16 rport;
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
	char comm[TCPLIFE_COMM_LEN];
};
