/* The event tcpconnlat's BPF program sends when an active TCP connect ends,
 * shared by both sides. Addresses: 16 bytes, IPv4 in the first 4; ports in
 * host order. */
#pragma once

#include "sock_endpoints.h"

#define TCPCONNLAT_COMM_LEN 16

struct tcpconnlat_event {
	__u64 ts_ns;	  /* CLOCK_MONOTONIC, at the handshake's end */
	__u64 latency_ns; /* from connect()'s move to SYN_SENT to that end */
	__u32 pid;	  /* the connecting process (bpf/sock_owners.bpf.h) */
	__u32 tid;
	__u32 uid;
	__u8 owner_known; /* 0: its entry was lost; pid, tid, uid, comm are 0 */
	__u8 failed;	  /* 1: the connect failed (SYN_SENT -> new_state, not ESTABLISHED) */
	__u8 new_state;	  /* ESTABLISHED (1), or CLOSE (7) for a failed one */
	__u8 unused;
	SOCK_ENDPOINT_FIELDS;
	char comm[TCPCONNLAT_COMM_LEN];
};
