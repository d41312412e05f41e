/* funclatency: log2 histograms of a function's latency, keyed by process
 * (-P) or 0 for all. */
#pragma once

#define FUNCLATENCY_SLOTS    64	   /* log2 slots: every __u64 value */
#define FUNCLATENCY_MAX_KEYS 10240 /* processes with -P */
#define FUNCLATENCY_COMM_LEN 16

struct funclatency_hist {
	__u64 slots[FUNCLATENCY_SLOTS];	 /* in the unit the loader chose (ns, us or ms) */
	char comm[FUNCLATENCY_COMM_LEN]; /* the process's name, with -P */
};
