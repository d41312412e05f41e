/* The event exitsnoop's BPF program sends, shared by both sides. */
#pragma once

#define EXITSNOOP_COMM_LEN 16

struct exitsnoop_event {
	__u64 ts_ns;	/* CLOCK_MONOTONIC, at exit */
	__u64 start_ns; /* CLOCK_MONOTONIC start of the process (of the thread with --threads) */
	__u32 pid;	/* thread group ID */
	__u32 tid;	/* the exiting thread */
	__u32 ppid;	/* real parent's thread group ID */
	__u32 uid;
	__u32 exit_code; /* task->exit_code: (code << 8) | signal | 0x80 (core dumped) */
	__u32 thread;	 /* 1: a thread ended and its process lives on (--threads) */
	char comm[EXITSNOOP_COMM_LEN];
};
