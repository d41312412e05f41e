/* llcstat's map, shared by both sides: last-level cache references and
 * misses sampled from the hardware counters, per process (or thread) and
 * CPU. */
#pragma once

#define LLCSTAT_COMM_LEN 16
#define LLCSTAT_MAX_KEYS 10240

struct llcstat_key {
	__u32 pid; /* the process on the CPU when the counter overflowed */
	__u32 tid; /* with --per-thread: its thread; 0 otherwise */
	__u32 cpu;
	char comm[LLCSTAT_COMM_LEN]; /* the thread's name */
	__u32 pad;
};

struct llcstat_value {
	__u64 references; /* samples of cache references, times the sample period */
	__u64 misses;	  /* samples of cache misses, times the sample period */
};
