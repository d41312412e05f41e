/* The event solisten's BPF program sends for one listen() on an IPv4 or
 * IPv6 socket, shared by both sides. The address: 16 bytes, IPv4 in the
 * first 4 (network order); the port in host order. */
#pragma once

#define SOLISTEN_COMM_LEN 16

struct solisten_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the call's return */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 ret;	   /* 0, or -errno */
	__s32 fd;	   /* the socket's descriptor */
	__s32 backlog;	   /* as passed to listen() */
	__u32 max_backlog; /* the socket's accept queue limit after the call
			    * (the backlog capped by net.core.somaxconn); 0
			    * where the call failed */
	__u16 family;	   /* AF_INET or AF_INET6 */
	__u16 protocol;	   /* IPPROTO_TCP, IPPROTO_SCTP, IPPROTO_MPTCP... */
	__u16 port;	   /* the local port (after the call: an unbound
			    * socket gets one from listen()) */
	__u16 pad;
	__u8 addr[16]; /* the local address */
	char comm[SOLISTEN_COMM_LEN];
};
