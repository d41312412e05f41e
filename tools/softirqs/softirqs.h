/* softirqs' maps and event, shared by both sides. */
#pragma once

#define SOFTIRQS_VECTORS  10 /* NR_SOFTIRQS: HI, TIMER, ..., RCU, the same since 4.1 */
#define SOFTIRQS_SLOTS	  32 /* the last one also holds everything above 2^31 units */
#define SOFTIRQS_COMM_LEN 16

/* Per vector and CPU (a per-CPU array indexed by vector): since the start. */
struct softirqs_value {
	__u64 count;		     /* runs of the vector's handler */
	__u64 total_ns;		     /* time in it, nanoseconds */
	__u64 slots[SOFTIRQS_SLOTS]; /* --distributed: run times, log2 of unit_ns units */
};

/* --slower: one softirq run that took at least the threshold, or waited at
 * least that long from its raise to its start. */
struct softirqs_event {
	__u64 ts_ns;   /* CLOCK_MONOTONIC, at the run's end */
	__u64 run_ns;  /* softirq_entry to softirq_exit */
	__u64 wait_ns; /* softirq_raise to softirq_entry on this CPU; 0: raise not seen */
	__u32 pid;     /* the task that was on the CPU (ksoftirqd, or whoever was interrupted) */
	__u32 tid;
	__u32 vec;
	__u32 cpu;
	char comm[SOFTIRQS_COMM_LEN];
};
