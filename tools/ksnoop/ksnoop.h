/* The event ksnoop's BPF programs send for one call of the traced kernel
 * function, at its return, shared by both sides. */
#pragma once

#define KSNOOP_COMM_LEN 16
#define KSNOOP_MAX_ARGS 6 /* the arguments passed in registers on x86-64 */

struct ksnoop_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the return */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 nr_args;		     /* arguments captured, the first nr_args of args */
	__u64 args[KSNOOP_MAX_ARGS]; /* their raw values, as the function got them */
	__u64 ret;		     /* the return value's raw bits */
	__u64 duration_ns;	     /* from entry to return */
	char comm[KSNOOP_COMM_LEN];
};
