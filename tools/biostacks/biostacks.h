/* biostacks' maps, shared by both sides: block I/O latency per kernel stack
 * that started the request, with the submitting process and the disk. */
#pragma once

#define BIOSTACKS_COMM_LEN 16
#define BIOSTACKS_MAX_KEYS 10240
#define BIOSTACKS_SLOTS	   32

struct biostacks_key {
	__u32 pid; /* the submitter's process (thread group ID) */
	__u32 dev; /* the whole disk's kernel dev_t */
	/* The kernel stack where the request started, from bpf_get_stackid;
	 * below zero what it returned (bpf/stacks.bpf.h). */
	__s32 kernel_stack_id;
	char comm[BIOSTACKS_COMM_LEN]; /* the submitting thread's name */
	__u32 pad;
};

struct biostacks_value {
	__u64 count;		      /* requests completed */
	__u64 total_ns;		      /* their latencies added up: start to completion */
	__u64 slots[BIOSTACKS_SLOTS]; /* requests by latency: slot log2(usecs), or msecs with -m */
};
