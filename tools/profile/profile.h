/* The counts map of profile, shared by both sides: samples per (process,
 * thread name, user stack, kernel stack). */
#pragma once

#define PROFILE_COMM_LEN 16

struct profile_key {
	__u32 pid; /* thread group ID; 0 for the idle task */
	/* IDs in the stack map, or below 0: STACK_ID_NONE (-EFAULT) when there
	 * is no such stack, another -errno when it could not be stored. */
	__s32 user_stack_id;
	__s32 kernel_stack_id;
	char comm[PROFILE_COMM_LEN]; /* the sampled thread's name */
};
