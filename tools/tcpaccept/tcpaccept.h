/* The event tcpaccept's BPF program sends, shared by both sides. Addresses:
 * 16 bytes, IPv4 in the first 4; ports in host order. */
#pragma once

#include "sock_endpoints.h"

#define TCPACCEPT_COMM_LEN 16

struct tcpaccept_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the return of accept() */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 fd; /* the new connection's file descriptor */
	SOCK_ENDPOINT_FIELDS;
	char comm[TCPACCEPT_COMM_LEN];
};
