/* memleak: the allocations not yet freed, kept in a hash map by address;
 * user space reads it every interval and sums it by stack. */
#pragma once

#define MEMLEAK_MAX_ALLOCS  131072 /* outstanding allocations followed at once */
#define MEMLEAK_MAX_PENDING 10240  /* threads inside an allocation function */

/* Which allocator an allocation came from (for -a and JSON). */
enum memleak_kind {
	MEMLEAK_USER = 0, /* malloc and friends */
	MEMLEAK_MMAP = 1, /* mmap */
	MEMLEAK_KMALLOC = 2,
	MEMLEAK_CACHE = 3, /* kmem_cache_alloc */
	MEMLEAK_PAGE = 4,  /* mm_page_alloc: the key is the page (or its frame number) */
	MEMLEAK_PERCPU = 5,
	MEMLEAK_KINDS = 6,
};

/* An outstanding allocation: its address and, in user mode, the process
 * (the same address in two processes is two allocations; kernel
 * allocations have pid 0 here, whoever frees them). */
struct memleak_key {
	__u64 address;
	__u32 pid;
	__u32 pad;
};

struct memleak_alloc {
	__u64 size;	/* bytes */
	__u64 ts_ns;	/* when it was made (CLOCK_MONOTONIC, ns) */
	__s32 stack_id; /* user stack in user mode, kernel stack in kernel mode */
	__u32 pid;	/* the process that made it */
	__u32 kind;	/* enum memleak_kind */
	__u32 pad;
};

/* Counters in .bss, read by the loader. */
enum memleak_counter {
	MEMLEAK_ALLOCS_DROPPED = 0, /* the table of outstanding allocations was full */
	MEMLEAK_COUNTERS = 1,
};
