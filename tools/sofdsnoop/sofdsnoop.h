/* The event sofdsnoop's BPF program sends for a sendmsg() or recvmsg() that
 * carries file descriptors (SCM_RIGHTS), shared by both sides. */
#pragma once

#define SOFDSNOOP_COMM_LEN 16
#define SOFDSNOOP_MAX_FDS  8  /* descriptors listed per message */
#define SOFDSNOOP_NAME_LEN 64 /* bytes of a file's name kept, NUL included */

enum sofdsnoop_action {
	SOFDSNOOP_SEND = 0,
	SOFDSNOOP_RECV = 1,
};

/* One descriptor passed: in the sender's table for a send, in the
 * receiver's (newly installed) for a receive. */
struct sofdsnoop_file {
	__u64 ino;  /* the file's inode number; 0 when the descriptor had no file */
	__u32 mode; /* the inode's i_mode (S_IFSOCK, S_IFIFO, ...); 0 without a file */
	__s32 fd;
	char name[SOFDSNOOP_NAME_LEN]; /* its dentry's name: the last path component */
};

struct sofdsnoop_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the call's return */
	__s64 ret;   /* bytes sent or received, or -errno */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 action;	/* enum sofdsnoop_action */
	__s32 sock_fd;	/* the Unix socket the call was made on */
	__u32 fd_count; /* descriptors in the message's SCM_RIGHTS control messages */
	__u32 listed;	/* of those, how many files[] holds (at most SOFDSNOOP_MAX_FDS) */
	__u32 ctrunc;	/* recvmsg: MSG_CTRUNC, the control buffer was too small */
	char comm[SOFDSNOOP_COMM_LEN];
	/* Only the first listed entries are sent. */
	struct sofdsnoop_file files[SOFDSNOOP_MAX_FDS];
};
