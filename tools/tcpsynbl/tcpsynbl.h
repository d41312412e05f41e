/* The histogram map of tcpsynbl, shared by both sides: one log2 histogram
 * of accept-queue lengths per listening socket's backlog limit (and, with
 * --per-port, its local port). */
#pragma once

#define TCPSYNBL_SLOTS	  32
#define TCPSYNBL_MAX_KEYS 1024

struct tcpsynbl_key {
	__u32 backlog_max; /* the listen() backlog, as the kernel capped it */
	__u16 port;	   /* the listener's local port with --per-port; else 0 */
	__u16 family;	   /* AF_INET or AF_INET6 with --per-port; else 0 */
};

struct tcpsynbl_hist {
	__u64 slots[TCPSYNBL_SLOTS]; /* connections that found the queue this long */
};
