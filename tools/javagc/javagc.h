/* javagc: the event its BPF programs send, one per garbage collection of a
 * HotSpot JVM (gc__begin to gc__end on one thread), shared by both sides. */
#pragma once

#define JAVAGC_COMM_LEN	   16
#define JAVAGC_MANAGER_LEN 40

struct javagc_event {
	__u64 ts_ns;	   /* CLOCK_MONOTONIC, at gc__end */
	__u64 duration_ns; /* gc__begin to gc__end */
	/* Bytes the collector's memory pools used before and after, summed
	 * over mem__pool__gc__begin and mem__pool__gc__end between the two
	 * (0 when those probes did not fire inside the collection). */
	__u64 used_before;
	__u64 used_after;
	__u32 pid;		    /* the JVM */
	__u32 tid;		    /* the thread that ran the collection (VM Thread) */
	__u32 full;		    /* gc__begin's argument: 1 for a full collection */
	__u32 pools;		    /* memory pools reported (mem__pool__gc__end) */
	char comm[JAVAGC_COMM_LEN]; /* the process's name (its main thread's) */
	/* The memory manager ("G1 Young Generation"), from the first
	 * mem__pool__gc__begin; empty when none fired. */
	char manager[JAVAGC_MANAGER_LEN];
};
