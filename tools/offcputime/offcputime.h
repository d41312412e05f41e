/* The maps offcputime's BPF program fills, shared by both sides. */
#pragma once

#define OFFCPUTIME_COMM_LEN    16
#define OFFCPUTIME_MAX_KEYS    10240
#define OFFCPUTIME_MAX_THREADS 32768 /* threads off CPU at once that can be followed */

/* Which threads to follow (--user-threads-only, --kernel-threads-only). */
enum offcputime_threads {
	OFFCPUTIME_ALL_THREADS = 0,
	OFFCPUTIME_USER_THREADS = 1,
	OFFCPUTIME_KERNEL_THREADS = 2,
};

/* A thread that left the CPU: when, and where it was. */
struct offcputime_start {
	__u64 start_ns;
	__u32 pid; /* thread group ID */
	/* Below zero: what bpf_get_stackid returned, or STACK_ID_NONE when
	 * not taken (bpf/stacks.bpf.h). */
	__s32 user_stack_id;
	__s32 kernel_stack_id;
	char comm[OFFCPUTIME_COMM_LEN];
};

/* What the time off CPU is summed by. */
struct offcputime_key {
	__u32 pid;
	__u32 tid;
	__s32 user_stack_id;
	__s32 kernel_stack_id;
	char comm[OFFCPUTIME_COMM_LEN];
};

struct offcputime_value {
	__u64 total_ns;
	__u64 count; /* times it blocked there */
};

/* Blocks that could not be recorded, in .bss (lost stacks are counted by
 * bpf/stacks.bpf.h). */
enum offcputime_drop {
	OFFCPUTIME_THREADS_DROPPED = 0, /* the table of threads off CPU was full */
	OFFCPUTIME_KEYS_DROPPED = 1,	/* the table of totals was full */
	OFFCPUTIME_DROP_KINDS = 2,
};
