/* The event filegone's BPF program sends, shared by both sides. */
#pragma once

#define FILEGONE_COMM_LEN 16
#define FILEGONE_NAME_MAX 4096 /* a path argument, with its NUL */

enum filegone_call {
	FILEGONE_UNLINK = 0,
	FILEGONE_UNLINKAT = 1,
	FILEGONE_RMDIR = 2,
	FILEGONE_RENAME = 3,
	FILEGONE_RENAMEAT = 4,
	FILEGONE_RENAMEAT2 = 5,
	FILEGONE_CALLS = 6,
};

struct filegone_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the call's return */
	__s64 ret;   /* 0, or -errno */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 call;	/* enum filegone_call */
	__s32 dirfd;	/* the *at calls' (old) dirfd, AT_FDCWD (-100) for the others */
	__s32 newdirfd; /* renameat, renameat2: the new name's dirfd */
	__u32 flags;	/* unlinkat's AT_REMOVEDIR, renameat2's RENAME_* */
	__u32 name_len; /* bytes of name used, with its NUL; 0: unreadable */
	__u32 new_len;	/* renames: bytes of new_name used, with its NUL */
	char comm[FILEGONE_COMM_LEN];
	char name[FILEGONE_NAME_MAX]; /* the (old) name, as the caller gave it */
	/* renames: the new name as the caller gave it. Only new_len bytes are sent. */
	char new_name[FILEGONE_NAME_MAX];
};
