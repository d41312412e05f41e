/* The histogram map of runqlat, shared by both sides: one log2 histogram
 * per key (a PID, a TID, a PID namespace, or 0 for all). */
#pragma once

#define RUNQLAT_SLOTS	 32 /* the last one also holds everything above 2^31 units */
#define RUNQLAT_MAX_KEYS 10240
#define RUNQLAT_COMM_LEN 16

enum runqlat_split {
	RUNQLAT_ALL = 0,
	RUNQLAT_PER_PROCESS = 1, /* -P: key is the thread group ID */
	RUNQLAT_PER_THREAD = 2,	 /* -L: key is the thread ID */
	RUNQLAT_PER_PIDNS = 3,	 /* --pidnss: key is the PID namespace's inode number */
};

struct runqlat_hist {
	__u64 slots[RUNQLAT_SLOTS];
	char comm[RUNQLAT_COMM_LEN]; /* -P, -L: the name when the key was first seen */
};
