/* The maps offcputime's BPF program fills, shared by both sides. */
#pragma once

#define OFFCPUTIME_COMM_LEN 16
#define OFFCPUTIME_MAX_KEYS 10240
#define OFFCPUTIME_MAX_THREADS 32768 /* threads off CPU at once that can be followed */
#define OFFCPUTIME_MAX_STACK_DEPTH 127 /* the kernel's sysctl_perf_event_max_stack default */
#define OFFCPUTIME_DEFAULT_STACK_STORAGE 16384

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
	__s32 user_stack_id;   /* -1: not taken (a kernel thread, or not asked for); below: the error bpf_get_stackid returned */
	__s32 kernel_stack_id; /* likewise */
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

/* Counters of what could not be recorded, in .bss. */
enum offcputime_error {
	OFFCPUTIME_USER_STACK_ERRORS = 0,   /* bpf_get_stackid failed for the user stack */
	OFFCPUTIME_KERNEL_STACK_ERRORS = 1, /* ... for the kernel stack */
	OFFCPUTIME_THREADS_DROPPED = 2,     /* the table of threads off CPU was full */
	OFFCPUTIME_KEYS_DROPPED = 3,        /* the table of stacks was full */
	OFFCPUTIME_ERROR_KINDS = 4,
};
