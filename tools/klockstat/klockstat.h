/* klockstat's maps, shared by both sides: kernel lock contention, from
 * lock:contention_begin to lock:contention_end (the totals map), and lock
 * hold times, from the return of a mutex or rw semaphore acquisition to its
 * release (the holds map), each summed per lock, flags and kernel stack
 * (and, with --per-thread, per thread). */
#pragma once

#define KLOCKSTAT_COMM_LEN  16
#define KLOCKSTAT_MAX_KEYS  10240
#define KLOCKSTAT_MAX_WAITS 10240
/* Locks held now, by lock and thread (an LRU: a lock released by another
 * thread than the one that took it leaves an entry that ages out). */
#define KLOCKSTAT_MAX_HELD 16384

/* The flags of contention_begin (LCB_F_* in include/trace/events/lock.h). */
#define KLOCKSTAT_F_SPIN   (1U << 0)
#define KLOCKSTAT_F_READ   (1U << 1)
#define KLOCKSTAT_F_WRITE  (1U << 2)
#define KLOCKSTAT_F_RT	   (1U << 3)
#define KLOCKSTAT_F_PERCPU (1U << 4)
#define KLOCKSTAT_F_MUTEX  (1U << 5)

/* The lock functions whose hold times are measured, for both sides: each
 * acquisition that always takes the lock, TAKE(fn, flags); that may fail,
 * TRY(fn, flags, taken), taken telling from its int ret; each release,
 * RELEASE(fn). The BPF side defines their programs from it, the loader
 * their attach step: a TAKE and a RELEASE are needed, a TRY (the variants
 * a kernel may lack: interruptible, killable, trylock) optional. */
#define KLOCKSTAT_HOLD_FUNCTIONS(TAKE, TRY, RELEASE)                                               \
	TAKE(mutex_lock, KLOCKSTAT_F_MUTEX)                                                        \
	TRY(mutex_lock_interruptible, KLOCKSTAT_F_MUTEX, ret == 0)                                 \
	TRY(mutex_lock_killable, KLOCKSTAT_F_MUTEX, ret == 0)                                      \
	TRY(mutex_trylock, KLOCKSTAT_F_MUTEX, ret == 1)                                            \
	RELEASE(mutex_unlock)                                                                      \
	TAKE(down_read, KLOCKSTAT_F_READ)                                                          \
	TRY(down_read_interruptible, KLOCKSTAT_F_READ, ret == 0)                                   \
	TRY(down_read_killable, KLOCKSTAT_F_READ, ret == 0)                                        \
	TRY(down_read_trylock, KLOCKSTAT_F_READ, ret == 1)                                         \
	RELEASE(up_read)                                                                           \
	TAKE(down_write, KLOCKSTAT_F_WRITE)                                                        \
	TRY(down_write_killable, KLOCKSTAT_F_WRITE, ret == 0)                                      \
	TRY(down_write_trylock, KLOCKSTAT_F_WRITE, ret == 1)                                       \
	RELEASE(up_write)

struct klockstat_key {
	__u64 lock_addr; /* the lock's kernel address */
	/* The kernel stack where the wait began (a hold: where the lock was
	 * taken), from bpf_get_stackid; below zero what it returned
	 * (bpf/stacks.bpf.h). */
	__s32 kernel_stack_id;
	/* KLOCKSTAT_F_*: what kind of lock, taken how; a hold: MUTEX (mutex_*),
	 * READ (down_read*) or WRITE (down_write*) */
	__u32 flags;
	__u32 pid; /* with --per-thread: the waiter's (holder's) process; 0 otherwise */
	__u32 tid; /* with --per-thread: the waiter's (holder's) thread; 0 otherwise */
	char comm[KLOCKSTAT_COMM_LEN]; /* with --per-thread: that thread's name */
};

struct klockstat_value {
	__u64 count;	/* waits (holds) that ended */
	__u64 total_ns; /* their lengths added up */
	__u64 max_ns;	/* the longest of them */
};
