/* The event runqslower's BPF program sends, shared by both sides: one wait
 * on a run queue at least the threshold long. */
#pragma once

#define RUNQSLOWER_COMM_LEN 16

struct runqslower_event {
	__u64 ts_ns;	/* CLOCK_MONOTONIC: when the task got the CPU */
	__u64 wait_ns;	/* from becoming runnable to running */
	__u32 pid;	/* the task that waited: its process */
	__u32 tid;	/* ... and thread */
	__u32 prev_tid; /* the task it took the CPU from (0: the idle task) */
	__u32 cpu;
	char comm[RUNQSLOWER_COMM_LEN];
	char prev_comm[RUNQSLOWER_COMM_LEN];
};
