/* The event setuids's BPF program sends, shared by both sides. */
#pragma once

#define SETUIDS_COMM_LEN   16
#define SETUIDS_MAX_GROUPS 8 /* setgroups: the first groups sent */

enum setuids_call {
	SETUIDS_SETUID = 0,
	SETUIDS_SETGID = 1,
	SETUIDS_SETREUID = 2,
	SETUIDS_SETREGID = 3,
	SETUIDS_SETRESUID = 4,
	SETUIDS_SETRESGID = 5,
	SETUIDS_SETFSUID = 6,
	SETUIDS_SETFSGID = 7,
	SETUIDS_SETGROUPS = 8,
	SETUIDS_CALLS = 9,
};

/* A task's IDs as its credentials hold them. */
struct setuids_ids {
	__u32 uid;
	__u32 euid;
	__u32 suid;
	__u32 fsuid;
	__u32 gid;
	__u32 egid;
	__u32 sgid;
	__u32 fsgid;
};

struct setuids_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the call's return */
	__s64 ret;   /* 0 or -errno; setfsuid/setfsgid: the previous fs ID */
	__u32 pid;
	__u32 tid;
	__u32 uid;  /* real UID at entry */
	__u32 call; /* enum setuids_call */
	/* The call's arguments as passed: the requested IDs in order (-1 as
	 * 0xffffffff: leave unchanged); setgroups: args[0] is the count. */
	__u32 args[3];
	__u32 groups_read; /* setgroups: how many of groups[] hold the caller's list */
	__u32 groups[SETUIDS_MAX_GROUPS];
	struct setuids_ids old; /* the caller's credentials at entry */
	char comm[SETUIDS_COMM_LEN];
};
