/* The event execsnoop's BPF program sends, shared by both sides. */
#pragma once

#define EXECSNOOP_COMM_LEN 16
/* The argument buffer: room for the largest --args-size, plus one argument
 * so that the failed-exec path can always read a whole one. */
#define EXECSNOOP_ARGS_SIZE_MAX 16384
#define EXECSNOOP_ARG_MAX	1024
#define EXECSNOOP_ARGS_BUF	(EXECSNOOP_ARGS_SIZE_MAX + EXECSNOOP_ARG_MAX)
/* The failed-exec path reads argv entries one by one, up to this many. */
#define EXECSNOOP_FAILED_ARGS_MAX 64

struct execsnoop_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at syscall exit */
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__s32 ret;	      /* 0, or -errno */
	__u32 args_len;	      /* bytes used in args */
	__u32 args_truncated; /* more bytes or arguments than were read */
	char comm[EXECSNOOP_COMM_LEN];
	/* NUL-separated arguments; only args_len bytes are sent. */
	char args[EXECSNOOP_ARGS_BUF];
};

/* corescope export's counts (counts_only): exec calls that returned, and
 * those of them that failed. */
struct execsnoop_counts {
	__u64 calls;
	__u64 failed;
};
