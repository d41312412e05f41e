/* The event threadsnoop's BPF program sends, shared by both sides. */
#pragma once

#define THREADSNOOP_COMM_LEN 16

struct threadsnoop_event {
	__u64 ts_ns;	     /* CLOCK_MONOTONIC, when the thread was made */
	__u64 start_routine; /* pthread_create's start routine, 0 when not seen */
	__u32 pid;	     /* the creator's process */
	__u32 tid;	     /* the creating thread */
	__u32 uid;
	__u32 new_tid;			 /* the new thread's ID */
	char comm[THREADSNOOP_COMM_LEN]; /* the creator's */
};
