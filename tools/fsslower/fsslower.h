/* The event fsslower's BPF program sends, shared by both sides. */
#pragma once

#define FSSLOWER_NAME_MAX  256 /* NAME_MAX and its NUL */
#define FSSLOWER_COMM_LEN  16
#define FSSLOWER_TYPE_LEN  16
#define FSSLOWER_MAX_TYPES 4 /* --type ext4,xfs,... */

/* The T column. */
enum fsslower_op {
	FSSLOWER_OP_READ = 0,
	FSSLOWER_OP_WRITE = 1,
	FSSLOWER_OP_OPEN = 2,
	FSSLOWER_OP_FSYNC = 3,
};

/* Which system call it was (JSON "syscall"). */
enum fsslower_syscall {
	FSSLOWER_READ,
	FSSLOWER_WRITE,
	FSSLOWER_PREAD64,
	FSSLOWER_PWRITE64,
	FSSLOWER_READV,
	FSSLOWER_WRITEV,
	FSSLOWER_PREADV,
	FSSLOWER_PWRITEV,
	FSSLOWER_PREADV2,
	FSSLOWER_PWRITEV2,
	FSSLOWER_OPEN,
	FSSLOWER_OPENAT,
	FSSLOWER_OPENAT2,
	FSSLOWER_CREAT,
	FSSLOWER_FSYNC,
	FSSLOWER_FDATASYNC,
	FSSLOWER_SYSCALL_COUNT,
};

struct fsslower_event {
	__u64 ts_ns;  /* CLOCK_MONOTONIC, at syscall exit */
	__u64 lat_ns; /* entry to exit */
	__s64 ret;    /* bytes moved, the new fd, 0, or -errno */
	__s64 offset; /* file offset at entry; -1 for opens and fsyncs */
	__u32 pid;
	__u32 tid;
	__u32 op;      /* enum fsslower_op */
	__u32 syscall; /* enum fsslower_syscall */
	char comm[FSSLOWER_COMM_LEN];
	char fs_type[FSSLOWER_TYPE_LEN];
	/* Only the used part of name (with its NUL) is sent. */
	char name[FSSLOWER_NAME_MAX];
};
