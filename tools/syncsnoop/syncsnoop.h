/* The event syncsnoop's BPF program sends, shared by both sides. */
#pragma once

#define SYNCSNOOP_COMM_LEN    16
#define SYNCSNOOP_PATH_BUFFER (4096 + 256) /* FILE_PATH_BUFFER of bpf/files.bpf.h */

enum syncsnoop_call {
	SYNCSNOOP_SYNC = 0,
	SYNCSNOOP_FSYNC = 1,
	SYNCSNOOP_FDATASYNC = 2,
	SYNCSNOOP_SYNCFS = 3,
	SYNCSNOOP_SYNC_FILE_RANGE = 4,
	SYNCSNOOP_MSYNC = 5,
	SYNCSNOOP_CALLS = 6,
};

struct syncsnoop_event {
	__u64 ts_ns;  /* CLOCK_MONOTONIC, at the call's return */
	__u64 lat_ns; /* entry to return */
	__s64 ret;    /* 0, or -errno */
	__u64 flags;  /* sync_file_range's and msync's flags argument, else 0 */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 call;	     /* enum syncsnoop_call */
	__s32 fd;	     /* -1 for sync and msync */
	__u32 path_complete; /* the path reached the root (bpf/files.bpf.h) */
	__u32 path_len;	     /* bytes of path used: components, leaf first */
	__u32 pad;
	char comm[SYNCSNOOP_COMM_LEN];
	/* Only path_len bytes of path are sent. */
	char path[SYNCSNOOP_PATH_BUFFER];
};
