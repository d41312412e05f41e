/* The event tcplife's BPF program sends when a TCP session closes, shared
 * by both sides. Addresses: 16 bytes, IPv4 in the first 4; ports in host
 * order. */
#pragma once

#include "sock_endpoints.h"

#define TCPLIFE_COMM_LEN 16

struct tcplife_event {
	__u64 ts_ns;	   /* CLOCK_MONOTONIC, at the move to CLOSE */
	__u64 duration_ns; /* from the first handshake state to CLOSE */
	__u64 tx_bytes;	   /* bytes sent and acknowledged by the peer */
	__u64 rx_bytes;	   /* bytes received */
	__u32 pid;	   /* the process that opened or closed the session */
	__u32 uid;
	SOCK_ENDPOINT_FIELDS;
	char comm[TCPLIFE_COMM_LEN];
};
