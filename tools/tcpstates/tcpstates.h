/* The event tcpstates's BPF program sends for each TCP state change, shared
 * by both sides. Addresses: 16 bytes, IPv4 in the first 4; ports in host
 * order. */
#pragma once

#include "sock_endpoints.h"

#define TCPSTATES_COMM_LEN 16

struct tcpstates_event {
	__u64 ts_ns;	 /* CLOCK_MONOTONIC, at the change */
	__u64 skaddr;	 /* the struct sock's kernel address */
	__u64 in_old_ns; /* time spent in oldstate; valid when in_old_known */
	__u32 pid;	 /* the socket's owner (bpf/sock_owners.bpf.h) */
	__u32 tid;	 /* ... the thread that last acted on it */
	__u32 uid;
	__u8 oldstate; /* TCP_ESTABLISHED (1) ... TCP_NEW_SYN_RECV (12) */
	__u8 newstate;
	__u8 owner_known;  /* 0: no hook saw the owner; pid, tid, uid, comm are 0 */
	__u8 in_old_known; /* 0: the socket's previous change was not seen */
	SOCK_ENDPOINT_FIELDS;
	char comm[TCPSTATES_COMM_LEN];
};
