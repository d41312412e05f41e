/* The counters numamove's BPF programs keep per CPU, shared by both sides.
 * They only grow; the loader prints the difference every interval. */
#pragma once

struct numamove_counts {
	__u64 migrations; /* calls of the kernel's migrate_pages() counted */
	__u64 pages;	  /* pages they moved (nr_succeeded) */
	__u64 failed;	  /* pages they could not move (nr_failed) */
	__u64 ns;	  /* time spent in them, in nanoseconds */
};
