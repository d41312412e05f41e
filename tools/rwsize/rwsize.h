/* rwsize: per process, the read and write system calls that moved data:
 * how many, how many bytes, and their sizes as log2 histograms in bytes
 * (bpf/log2.bpf.h); calls that failed are counted apart. The values only
 * grow; user space reports the difference between two reads. */
#pragma once

#define RWSIZE_SLOTS	32 /* the last one also holds everything above 2^31 bytes */
#define RWSIZE_MAX_PIDS 10240
#define RWSIZE_COMM_LEN 16

struct rwsize_direction {
	__u64 calls;  /* calls that moved data (result > 0) */
	__u64 bytes;  /* the sum of their results */
	__u64 errors; /* calls that failed (result -4095..-1) */
	__u64 slots[RWSIZE_SLOTS];
};

struct rwsize_process {
	struct rwsize_direction read;
	struct rwsize_direction write;
	__u64 comm_ns; /* when comm was taken: the newest copy wins across CPUs */
	char comm[RWSIZE_COMM_LEN];
};
