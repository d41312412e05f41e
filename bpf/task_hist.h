/* Log2 histograms of times per task, shared by both sides of runqlat and
 * cpudist: one histogram per key (a process, a thread, a PID namespace, or
 * 0 for all), in the map bpf/task_hists.bpf.h defines. */
#pragma once

#define TASK_HIST_SLOTS	   32 /* the last one also holds everything above 2^31 units */
#define TASK_HIST_MAX_KEYS 10240
#define TASK_HIST_COMM_LEN 16

enum task_hist_split {
	TASK_HIST_ALL = 0,
	TASK_HIST_PER_PROCESS = 1, /* -P: key is the thread group ID */
	TASK_HIST_PER_THREAD = 2,  /* -L: key is the thread ID */
	TASK_HIST_PER_PIDNS = 3,   /* --pidnss: key is the PID namespace's inode number */
};

struct task_hist {
	__u64 slots[TASK_HIST_SLOTS];
	char comm[TASK_HIST_COMM_LEN]; /* per process or thread: the name when the key was first
					  seen */
};
