/* The maps wakeuptime's BPF program fills, shared by both sides. */
#pragma once

#include "wakeup_stacks.h"

/* A traced thread that blocked: when, and who it is. */
struct wakeuptime_start {
	__u64 start_ns;
	__u32 pid; /* thread group ID */
	__u32 pad;
	char comm[WAKEUPS_COMM_LEN];
};

/* What the blocked time is summed by: the waker where it woke the thread
 * (its stacks), and the thread it woke. */
struct wakeuptime_key {
	struct task_stacks waker;
	__u32 target_pid;
	__u32 target_tid;
	char target_comm[WAKEUPS_COMM_LEN];
};
