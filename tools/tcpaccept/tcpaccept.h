/* The event tcpaccept's BPF program sends, shared by both sides. Addresses:
 * 16 bytes, IPv4 in the first 4; ports in host order. */
#pragma once

#define TCPACCEPT_COMM_LEN 16

struct tcpaccept_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the return of accept() */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 fd; /* the new connection's file descriptor */
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 lport;
	__u16 rport;
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
	char comm[TCPACCEPT_COMM_LEN];
};
