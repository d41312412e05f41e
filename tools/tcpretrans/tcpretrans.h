/* The event and count records tcpretrans's BPF program fills, shared by
 * both sides. Addresses: 16 bytes, IPv4 in the first 4; ports in host
 * order. */
#pragma once

#include "sock_endpoints.h"

enum tcpretrans_type {
	TCPRETRANS_RETRANSMIT = 0,
	TCPRETRANS_LOSS_PROBE = 1,
};

struct tcpretrans_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u32 pid;   /* the task the kernel ran in: often unrelated (timers, softirq) */
	__u32 type;  /* enum tcpretrans_type */
	__u32 state; /* TCP state of the socket */
	SOCK_ENDPOINT_FIELDS;
};

/* --count: per connection, counted in the kernel. */
struct tcpretrans_count_key {
	SOCK_ENDPOINT_FIELDS;
};

struct tcpretrans_count {
	__u64 retransmits;
	__u64 loss_probes;
};

/* corescope export's counts (counts_only): every retransmission and loss
 * probe that passed the filters, with no connection. */
struct tcpretrans_totals {
	__u64 retransmits;
	__u64 loss_probes;
};
