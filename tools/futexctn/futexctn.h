/* The maps futexctn's BPF program fills, shared by both sides: one entry
 * per contended lock, summing the waits of a process on one futex word from
 * one user stack. */
#pragma once

#define FUTEXCTN_COMM_LEN    16
#define FUTEXCTN_SLOTS	     32 /* log2 slots; the last also holds everything above */
#define FUTEXCTN_MAX_KEYS    10240
#define FUTEXCTN_MAX_THREADS 32768 /* threads waiting at once that can be timed */

struct futexctn_key {
	__u64 uaddr; /* the futex word's user address (the lock) */
	__u32 pid;   /* thread group ID */
	/* Below zero: what bpf_get_stackid returned, or STACK_ID_NONE when
	 * stacks are off (bpf/stacks.bpf.h). */
	__s32 user_stack_id;
	char comm[FUTEXCTN_COMM_LEN]; /* of the first thread seen waiting there */
};

struct futexctn_value {
	__u64 count;	/* waits */
	__u64 total_ns; /* summed wait time */
	__u64 min_ns;
	__u64 max_ns;
	__u64 slots[FUTEXCTN_SLOTS]; /* log2 histogram of waits, in unit_ns units */
};

/* Waits that could not be recorded, in .bss (lost stacks are counted by
 * bpf/stacks.bpf.h). */
enum futexctn_drop {
	FUTEXCTN_KEYS_DROPPED = 0, /* the table of locks was full */
	FUTEXCTN_DROP_KINDS = 1,
};
