/* klockstat's maps, shared by both sides: kernel lock contention, from
 * lock:contention_begin to lock:contention_end, summed per lock, flags and
 * kernel stack (and, with --per-thread, per thread). */
#pragma once

#define KLOCKSTAT_COMM_LEN  16
#define KLOCKSTAT_MAX_KEYS  10240
#define KLOCKSTAT_MAX_WAITS 10240

/* The flags of contention_begin (LCB_F_* in include/trace/events/lock.h). */
#define KLOCKSTAT_F_SPIN   (1U << 0)
#define KLOCKSTAT_F_READ   (1U << 1)
#define KLOCKSTAT_F_WRITE  (1U << 2)
#define KLOCKSTAT_F_RT	   (1U << 3)
#define KLOCKSTAT_F_PERCPU (1U << 4)
#define KLOCKSTAT_F_MUTEX  (1U << 5)

struct klockstat_key {
	__u64 lock_addr; /* the lock's kernel address */
	/* The kernel stack where the wait began, from bpf_get_stackid; below
	 * zero what it returned (bpf/stacks.bpf.h). */
	__s32 kernel_stack_id;
	__u32 flags;		       /* KLOCKSTAT_F_*: what kind of lock, taken how */
	__u32 pid;		       /* with --per-thread: the waiter's process; 0 otherwise */
	__u32 tid;		       /* with --per-thread: the waiter's thread; 0 otherwise */
	char comm[KLOCKSTAT_COMM_LEN]; /* with --per-thread: the waiting thread's name */
};

struct klockstat_value {
	__u64 count;	/* waits that ended */
	__u64 total_ns; /* their lengths added up, contention_begin to contention_end */
	__u64 max_ns;	/* the longest of them */
};
