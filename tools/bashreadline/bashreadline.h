/* The event bashreadline's BPF program sends for a line readline()
 * returned, shared by both sides. */
#pragma once

#define BASHREADLINE_COMM_LEN 16
#define BASHREADLINE_LINE_MAX 4096 /* bytes of a line read at most, with its NUL */

struct bashreadline_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at readline's return */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 len; /* bytes of line, without the NUL */
	char comm[BASHREADLINE_COMM_LEN];
	/* The line as typed, NUL-terminated; only the used part is sent. A
	 * line of BASHREADLINE_LINE_MAX - 1 bytes or more is cut there. */
	char line[BASHREADLINE_LINE_MAX];
};
