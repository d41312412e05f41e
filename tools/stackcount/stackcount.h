/* stackcount: calls counted by stack, shared by both sides. The counts map's
 * key: which probe (the attachment's cookie), whose process, and the stacks
 * the call came through. */
#pragma once

#define STACKCOUNT_COMM_LEN 16
/* At most this many probes in one run (each is a perf event and a link). */
#define STACKCOUNT_MAX_PROBES 1000

struct stackcount_key {
	/* Thread group ID: kept when user stacks are taken (user space names
	 * their frames in that process) or with -P; 0 otherwise. */
	__u32 pid;
	__u32 probe; /* the probe's number: the index of its label */
	/* IDs in the stack map, or below 0: STACK_ID_NONE (-EFAULT) when there
	 * is no such stack or it was not asked for, another -errno when it could
	 * not be stored. */
	__s32 user_stack_id;
	__s32 kernel_stack_id;
	char comm[STACKCOUNT_COMM_LEN]; /* with -P only; zeros otherwise */
};
