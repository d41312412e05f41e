/* The table swapin's BPF programs fill, shared by both sides: swap-ins by
 * process, emptied by the loader every interval. */
#pragma once

#define SWAPIN_COMM_LEN	 16
#define SWAPIN_PROCESSES 10240

struct swapin_key {
	__u32 pid; /* the process (thread group) whose thread read the swap in */
	__u32 pad;
	char comm[SWAPIN_COMM_LEN]; /* that thread's name */
};

struct swapin_value {
	__u64 count; /* swap reads: one per folio read in (a fault or its readahead) */
	__u64 pages; /* the pages they read */
};
