/* The event ttysnoop's BPF program sends for a write to a terminal, shared
 * by both sides. */
#pragma once

#define TTYSNOOP_COMM_LEN   16
#define TTYSNOOP_DATA_MAX   8192 /* bytes of one write captured at most (a power of two) */
#define TTYSNOOP_MAX_IOVECS 64	 /* writev: iovecs read at most */
#define TTYSNOOP_MAX_MAJORS 16	 /* terminal drivers' majors, for "every terminal" */

enum ttysnoop_call {
	TTYSNOOP_WRITE = 0,
	TTYSNOOP_WRITEV = 1,
	TTYSNOOP_PWRITEV2 = 2, /* with offset -1: a writev at the file's position */
	TTYSNOOP_CALLS = 3,
};

struct ttysnoop_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the call's entry */
	__u64 count; /* bytes the call asked to write (writev: the iovecs' sum, of those read) */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 call;  /* enum ttysnoop_call */
	__s32 fd;    /* the descriptor written to */
	__u32 major; /* the terminal's device number */
	__u32 minor;
	__u32 len; /* bytes of data captured: at most the capture limit and count */
	char comm[TTYSNOOP_COMM_LEN];
	/* Only len bytes are sent; the buffer has room for one more read's
	 * worth, so the verifier sees every copy in bounds. */
	char data[2 * TTYSNOOP_DATA_MAX];
};
