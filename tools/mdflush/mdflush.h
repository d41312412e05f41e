/* The event mdflush's BPF program sends for a flush of an md (software
 * RAID) device, shared by both sides. */
#pragma once

#define MDFLUSH_COMM_LEN 16
#define MDFLUSH_DISK_LEN 32 /* DISK_NAME_LEN */

struct mdflush_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 major; /* the md device's number */
	__u32 minor;
	__u32 pad;
	char comm[MDFLUSH_COMM_LEN];
	char disk[MDFLUSH_DISK_LEN]; /* its gendisk's name: "md0" */
};
