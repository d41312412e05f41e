/* The event opensnoop's BPF program sends, shared by both sides. */
#pragma once

#define OPENSNOOP_PATH_MAX 4096
#define OPENSNOOP_COMM_LEN 16

enum opensnoop_syscall {
	OPENSNOOP_OPEN = 0,
	OPENSNOOP_OPENAT = 1,
	OPENSNOOP_OPENAT2 = 2,
	OPENSNOOP_CREAT = 3,
};

struct opensnoop_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at syscall exit */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 ret; /* fd, or -errno */
	__u64 flags;
	__u32 mode;
	__u32 syscall; /* enum opensnoop_syscall */
	char comm[OPENSNOOP_COMM_LEN];
	/* Only the used part of path (with its NUL) is sent. */
	char path[OPENSNOOP_PATH_MAX];
};

/* corescope export's counts (counts_only): open calls that returned, and
 * those that failed by errno (slot 0: an errno of OPENSNOOP_ERRNO_SLOTS or
 * above, which no kernel returns today). */
#define OPENSNOOP_ERRNO_SLOTS 256

struct opensnoop_counts {
	__u64 calls;
	__u64 failed;
	__u64 by_errno[OPENSNOOP_ERRNO_SLOTS];
};
