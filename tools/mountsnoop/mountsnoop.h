/* The event mountsnoop's BPF program sends, shared by both sides. */
#pragma once

#define MOUNTSNOOP_COMM_LEN 16
#define MOUNTSNOOP_NAME_LEN 64	 /* fstype, fsconfig's key */
#define MOUNTSNOOP_PATH_LEN 1024 /* source, target: longer ones are cut */
#define MOUNTSNOOP_DATA_LEN 512	 /* mount's data: options, cut past this */
#define MOUNTSNOOP_ARGS	    5

enum mountsnoop_call {
	MOUNTSNOOP_MOUNT = 0,
	MOUNTSNOOP_UMOUNT2 = 1, /* the kernel's umount */
	MOUNTSNOOP_FSOPEN = 2,
	MOUNTSNOOP_FSCONFIG = 3,
	MOUNTSNOOP_FSMOUNT = 4,
	MOUNTSNOOP_MOVE_MOUNT = 5,
	MOUNTSNOOP_OPEN_TREE = 6,
	MOUNTSNOOP_FSPICK = 7,
	MOUNTSNOOP_MOUNT_SETATTR = 8,
	MOUNTSNOOP_CALLS = 9,
};

/* Which strings were read (the rest are empty): bits of 1 << index. */
enum mountsnoop_string {
	MOUNTSNOOP_HAS_NAME = 1,
	MOUNTSNOOP_HAS_SOURCE = 2,
	MOUNTSNOOP_HAS_TARGET = 4,
	MOUNTSNOOP_HAS_DATA = 8,
	MOUNTSNOOP_HAS_ATTR = 16, /* mount_setattr's struct mount_attr */
};

struct mountsnoop_event {
	__u64 ts_ns;  /* CLOCK_MONOTONIC, at the call's return */
	__u64 lat_ns; /* entry to return */
	__s64 ret;    /* a descriptor (fsopen, fsmount, open_tree, fspick), 0, or -errno */
	/* The call's arguments as passed, in order (pointers too, unused). */
	__u64 args[MOUNTSNOOP_ARGS];
	/* mount_setattr's struct mount_attr */
	__u64 attr_set;
	__u64 attr_clr;
	__u64 propagation;
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 call;   /* enum mountsnoop_call */
	__u32 mnt_ns; /* the caller's mount namespace (its inode number) at return */
	__u32 has;    /* enum mountsnoop_string bits */
	char comm[MOUNTSNOOP_COMM_LEN];
	/* By call: name is mount's and fsopen's fstype, fsconfig's key; source
	 * is mount's source, move_mount's from path, fsconfig's string value;
	 * target is mount's and umount2's target, move_mount's to path, and
	 * the path of open_tree, fspick and mount_setattr; data is mount's
	 * data. Each NUL-terminated. */
	char name[MOUNTSNOOP_NAME_LEN];
	char source[MOUNTSNOOP_PATH_LEN];
	char target[MOUNTSNOOP_PATH_LEN];
	char data[MOUNTSNOOP_DATA_LEN];
};
