/* The event tcptracer's BPF program sends for a connect, an accept or a
 * close of a TCP connection, shared by both sides. Addresses: 16 bytes,
 * IPv4 in the first 4; ports in host order; l* is this host's end. */
#pragma once

#include "sock_endpoints.h"

#define TCPTRACER_COMM_LEN 16

#define TCPTRACER_CONNECT 'C' /* an active open established */
#define TCPTRACER_ACCEPT  'A' /* accept() or accept4() returned it */
#define TCPTRACER_CLOSE	  'X' /* an established connection closed */

struct tcptracer_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u32 pid;   /* the socket's owner (bpf/sock_owners.bpf.h) */
	__u32 tid;
	__u32 uid;
	__u8 type;	  /* TCPTRACER_CONNECT, _ACCEPT or _CLOSE */
	__u8 owner_known; /* 0: no hook saw the owner; pid, tid, uid, comm are 0 */
	__u16 unused;
	SOCK_ENDPOINT_FIELDS;
	char comm[TCPTRACER_COMM_LEN];
};
