/* What wakeuptime and offwaketime record of a task at a switch or a
 * wake-up, shared by both sides (plain C). */
#pragma once

#define WAKEUPS_COMM_LEN    16
#define WAKEUPS_MAX_KEYS    10240
#define WAKEUPS_MAX_THREADS 32768 /* threads blocked at once that can be followed */

/* Which threads to follow (--user-threads-only, --kernel-threads-only). */
enum wakeups_threads {
	WAKEUPS_ALL_THREADS = 0,
	WAKEUPS_USER_THREADS = 1,
	WAKEUPS_KERNEL_THREADS = 2,
};

/* A task and where it was: its stacks as bpf_get_stackid returned them
 * (below zero: not stored, or STACK_ID_NONE when not taken, see
 * bpf/stacks.bpf.h). */
struct task_stacks {
	__u32 pid; /* thread group ID */
	__u32 tid;
	__s32 user_stack_id;
	__s32 kernel_stack_id;
	char comm[WAKEUPS_COMM_LEN];
};

struct wakeups_value {
	__u64 total_ns;
	__u64 count; /* blocks summed here */
};

/* Blocks that could not be recorded, in .bss (lost stacks are counted by
 * bpf/stacks.bpf.h). */
enum wakeups_drop {
	WAKEUPS_THREADS_DROPPED = 0, /* the table of blocked threads was full */
	WAKEUPS_KEYS_DROPPED = 1,    /* the table of totals was full */
	WAKEUPS_DROP_KINDS = 2,
};
