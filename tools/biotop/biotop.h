/* biotop's map, shared by both sides: block I/O per issuing process, disk
 * and direction, counted in the kernel at each completion and read and
 * emptied by user space every interval. */
#pragma once

#define BIOTOP_COMM_LEN 16
#define BIOTOP_MAX_KEYS 10240

struct biotop_key {
	__u32 pid;		    /* the submitter's process (thread group ID) */
	__u32 dev;		    /* the whole disk's kernel dev_t */
	__u32 write;		    /* 1 for a write-type op (odd REQ_OP_*), 0 for a read */
	char comm[BIOTOP_COMM_LEN]; /* the submitting thread's name */
	__u32 pad;
};

struct biotop_value {
	__u64 io;	/* requests completed */
	__u64 bytes;	/* their bytes */
	__u64 total_ns; /* their latencies added up: issue to completion */
};
