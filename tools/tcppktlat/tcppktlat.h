/* The event tcppktlat's BPF program sends when an application reads TCP
 * data that waited at least the threshold, shared by both sides.
 * Addresses: 16 bytes, IPv4 in the first 4; ports in host order. */
#pragma once

#include "sock_endpoints.h"

#define TCPPKTLAT_COMM_LEN 16

struct tcppktlat_event {
	__u64 ts_ns;   /* CLOCK_MONOTONIC, when the read copied the data */
	__u64 wait_ns; /* from the arrival of the oldest segment unread until then */
	__u32 pid;     /* the reading process (the read runs in it) */
	__u32 tid;
	__u32 uid;
	__u32 reserved;
	SOCK_ENDPOINT_FIELDS;
	char comm[TCPPKTLAT_COMM_LEN];
};
