/* The counters pidpersec's BPF programs keep per CPU, shared by both sides.
 * They only grow; the loader prints the difference every interval. */
#pragma once

struct pidpersec_counts {
	__u64 processes; /* new processes: forks and clones without CLONE_THREAD */
	__u64 threads;	 /* new threads of an existing process (CLONE_THREAD) */
};
