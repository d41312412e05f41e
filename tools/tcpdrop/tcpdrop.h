/* The event tcpdrop's BPF program sends for each dropped packet, shared by
 * both sides. Addresses: 16 bytes, IPv4 in the first 4 (network order);
 * ports in host order. The kernel stack ends the event and is sent only as
 * deep as it is. */
#pragma once

#define TCPDROP_COMM_LEN  16
#define TCPDROP_STACK_MAX 127 /* frames: the kernel's default perf_event_max_stack */
/* corescope export's counts by reason: at most this many reasons (6.18 has
 * about 130; subsystems' reasons add more). */
#define TCPDROP_REASONS_MAX 1024

/* Where the event's addresses and ports come from. */
enum tcpdrop_source {
	TCPDROP_FROM_NONE = 0,	 /* neither: a packet that is not IP, with no socket */
	TCPDROP_FROM_PACKET = 1, /* the packet's own IP and TCP/UDP headers */
	TCPDROP_FROM_SOCKET = 2, /* its socket (no headers yet): saddr is the local end */
};

struct tcpdrop_event {
	__u64 ts_ns;	/* CLOCK_MONOTONIC */
	__u64 location; /* the kernel address that dropped it (the tracepoint's location) */
	__u32 pid;	/* the socket's owner (bpf/sock_owners.bpf.h), when owner_known */
	__u32 tid;
	__u32 uid;
	__u32 reason;	/* enum skb_drop_reason of the running kernel; names in user space */
	__u16 family;	/* AF_INET, AF_INET6, or another family's number (--all) */
	__u16 protocol; /* the packet's EtherType (skb->protocol), host order */
	__u16 sport;	/* source port (packet) or local port (socket) */
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 ip_proto;	    /* IPPROTO_TCP, IPPROTO_UDP, ...; 0 unknown */
	__u8 tcp_flags;	    /* the TCP header's flags byte (FIN 0x01 ... CWR 0x80) */
	__u8 state;	    /* the socket's TCP state; 0: no TCP socket */
	__u8 source;	    /* enum tcpdrop_source */
	__u8 owner_known;   /* pid, tid, uid and comm are the socket owner's */
	__u8 has_flags;	    /* tcp_flags was read from a TCP header */
	__u16 stack_frames; /* frames in stack; 0 when the kernel gave none */
	char comm[TCPDROP_COMM_LEN];
	__u64 stack[TCPDROP_STACK_MAX]; /* return addresses, innermost first */
};
