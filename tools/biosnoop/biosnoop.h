/* The event biosnoop's BPF program sends, shared by both sides: one block
 * request at its completion. */
#pragma once

#define BIOSNOOP_COMM_LEN 16
#define BIOSNOOP_RWBS_LEN 10 /* BLOCK_RWBS_MAX */

struct biosnoop_event {
	__u64 ts_ns;	/* CLOCK_MONOTONIC, at completion */
	__u64 lat_ns;	/* issue to completion */
	__u64 queue_ns; /* insert to issue; 0 when the request was issued without insert */
	__u64 sector;	/* the first 512-byte sector; 0 for a request without one (flush) */
	__u32 bytes;	/* the request's size at issue */
	__u32 dev;	/* the disk, as the kernel's dev_t (major << 20 | minor) */
	__u32 pid;	/* the task that inserted or issued it, whichever came first */
	__u32 tid;
	char comm[BIOSNOOP_COMM_LEN];
	char rwbs[BIOSNOOP_RWBS_LEN]; /* "R", "WS", "FWFS", ...: see bpf/block.bpf.h */
	__u8 pad[6];
};
