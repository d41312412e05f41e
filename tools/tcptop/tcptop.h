/* tcptop's map: bytes per process and connection, counted in the kernel
 * (bpf/tcp_bytes.bpf.h), read and emptied by user space every interval.
 * Shared by both sides. */
#pragma once

#include "sock_endpoints.h"

#define TCPTOP_COMM_LEN	   16
#define TCPTOP_CONNECTIONS 10240

struct tcptop_key {
	__u32 pid; /* the process that sent or received */
	SOCK_ENDPOINT_FIELDS;
};

struct tcptop_bytes {
	__u64 received;		    /* bytes read by the process (recvmsg's results) */
	__u64 sent;		    /* bytes the process handed to TCP (sendmsg's results) */
	char comm[TCPTOP_COMM_LEN]; /* the process's name when the entry was made */
};
