/* The histogram map of wqlat, shared by both sides: one log2 histogram per
 * key. Latency (the default): the time from a work item's queueing to the
 * start of its execution, per workqueue name with -W (else all under one
 * empty name). Execution time (-E): from the start to the end of the work
 * function, per function. */
#pragma once

#define WQLAT_NAME_LEN 32 /* a workqueue's name (24 bytes before 6.3), NUL-terminated */
#define WQLAT_SLOTS    32 /* the last one also holds everything above 2^31 units */
#define WQLAT_MAX_KEYS 4096

struct wqlat_key {
	__u64 function;		   /* -E: the work function's address; else 0 */
	char name[WQLAT_NAME_LEN]; /* -W, -w: the workqueue's name; else empty */
};

struct wqlat_hist {
	__u64 slots[WQLAT_SLOTS];
};
