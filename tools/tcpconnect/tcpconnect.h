/* The event and count key tcpconnect's BPF program fills, shared by both
 * sides. Addresses: 16 bytes, IPv4 in the first 4; ports in host order. */
#pragma once

#define TCPCONNECT_COMM_LEN 16

struct tcpconnect_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the SYN_SENT transition */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 sport;
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[TCPCONNECT_COMM_LEN];
};

/* -C: connections counted in the kernel per source, destination and port
 * (and source port with -s). */
struct tcpconnect_count_key {
	__u16 family;
	__u16 sport; /* 0 unless counting per source port */
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};
