/* The events filelife's BPF program sends, shared by both sides. */
#pragma once

#define FILELIFE_COMM_LEN    16
#define FILELIFE_NAME_MAX    4096	  /* a path argument, with its NUL */
#define FILELIFE_PATH_BUFFER (4096 + 256) /* FILE_PATH_BUFFER of bpf/files.bpf.h */

enum filelife_kind {
	FILELIFE_CREATE = 0, /* an open that created its file: path holds the file's path */
	FILELIFE_DELETE = 1, /* an unlink that succeeded: name holds its argument, path
			      * the directory a relative name is taken from */
};

enum filelife_call {
	FILELIFE_OPEN = 0,
	FILELIFE_OPENAT = 1,
	FILELIFE_OPENAT2 = 2,
	FILELIFE_CREAT = 3,
	FILELIFE_UNLINK = 4,
	FILELIFE_UNLINKAT = 5,
	FILELIFE_CALLS = 6,
};

struct filelife_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the call's return */
	__u64 ino;   /* CREATE: the new file's inode number */
	__u32 dev;   /* CREATE: its file system's device (kernel encoding) */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 kind;	     /* enum filelife_kind */
	__u32 call;	     /* enum filelife_call */
	__s32 dirfd;	     /* DELETE: unlinkat's dirfd (AT_FDCWD is -100) */
	__u32 path_complete; /* path reached the root */
	__u32 path_len;	     /* bytes of path used (components, leaf first) */
	__u32 name_len;	     /* DELETE: bytes of name used, with its NUL; else 0 */
	char comm[FILELIFE_COMM_LEN];
	/* CREATE: only path_len bytes of path are sent (a file created and
	 * never deleted costs no more); DELETE: path whole, then name_len
	 * bytes of name. */
	char path[FILELIFE_PATH_BUFFER];
	char name[FILELIFE_NAME_MAX];
};
