/* The event fsslower's BPF program sends, shared by both sides. */
#pragma once

#include "fs_calls.h"

#define FSSLOWER_NAME_MAX 256 /* NAME_MAX and its NUL */
#define FSSLOWER_COMM_LEN 16
#define FSSLOWER_TYPE_LEN FS_CALLS_TYPE_LEN

/* op is an enum fs_call_op (the T column), syscall an enum fs_call_syscall
 * (JSON "syscall"): bpf/fs_calls.h. */

struct fsslower_event {
	__u64 ts_ns;  /* CLOCK_MONOTONIC, at syscall exit */
	__u64 lat_ns; /* entry to exit */
	__s64 ret;    /* bytes moved, the new fd, 0, or -errno */
	__s64 offset; /* file offset at entry; -1 for opens and fsyncs */
	__u32 pid;
	__u32 tid;
	__u32 op;      /* enum fs_call_op */
	__u32 syscall; /* enum fs_call_syscall */
	char comm[FSSLOWER_COMM_LEN];
	char fs_type[FSSLOWER_TYPE_LEN];
	/* Only the used part of name (with its NUL) is sent. */
	char name[FSSLOWER_NAME_MAX];
};
