/* The event statsnoop's BPF program sends, shared by both sides. */
#pragma once

#define STATSNOOP_COMM_LEN    16
#define STATSNOOP_PATH_MAX    4096	   /* a path argument, with its NUL */
#define STATSNOOP_PATH_BUFFER (4096 + 256) /* FILE_PATH_BUFFER of bpf/files.bpf.h */

enum statsnoop_call {
	STATSNOOP_STAT = 0,  /* newstat */
	STATSNOOP_LSTAT = 1, /* newlstat */
	STATSNOOP_FSTAT = 2, /* newfstat */
	STATSNOOP_NEWFSTATAT = 3,
	STATSNOOP_STATX = 4,
	STATSNOOP_STATFS = 5,
	STATSNOOP_FSTATFS = 6,
	STATSNOOP_ACCESS = 7,
	STATSNOOP_FACCESSAT = 8,
	STATSNOOP_FACCESSAT2 = 9,
	STATSNOOP_CALLS = 10,
};

/* What path holds. */
enum statsnoop_path {
	STATSNOOP_PATH_NONE = 0,       /* nothing could be read */
	STATSNOOP_PATH_ARGUMENT = 1,   /* the path argument as the caller gave it, NUL-terminated */
	STATSNOOP_PATH_COMPONENTS = 2, /* the descriptor's file (fstat, AT_EMPTY_PATH):
					* components, leaf first (bpf/files.bpf.h) */
};

struct statsnoop_event {
	__u64 ts_ns;  /* CLOCK_MONOTONIC, at the call's return */
	__u64 lat_ns; /* entry to return */
	__s64 ret;    /* 0, or -errno */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 call;	     /* enum statsnoop_call */
	__s32 fd;	     /* the fd or dirfd argument (AT_FDCWD is -100); -1 where none */
	__u32 flags;	     /* AT_* flags (lstat: AT_SYMLINK_NOFOLLOW), else 0 */
	__u32 mask;	     /* statx's mask; the access calls' mode */
	__u32 path_kind;     /* enum statsnoop_path */
	__u32 path_complete; /* PATH_COMPONENTS reached the root */
	__u32 path_len;	     /* bytes of path used */
	char comm[STATSNOOP_COMM_LEN];
	/* Only path_len bytes of path are sent. */
	char path[STATSNOOP_PATH_BUFFER];
};
