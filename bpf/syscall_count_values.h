/* The counters that syscount and vfscount keep (bpf/syscall_counts.bpf.h),
 * shared by both sides (common/syscall_counts.h reads them). */
#pragma once

#define SYSCALL_COUNTS_COMM_LEN 16
/* System call numbers at or above this are not counted (x86_64 and the
 * generic table end below 512; x32 calls carry bit 30 and are left out). */
#define SYSCALL_COUNTS_MAX_NR	512
#define SYSCALL_COUNTS_MAX_PIDS 16384

/* Per system call number (per-CPU array) and per process (per-CPU hash
 * keyed by thread group ID). Counts only grow; user space reports the
 * difference between two reads. */
struct syscall_counts {
	__u64 count;
	__u64 total_ns; /* time in the calls, with --latency */
};

struct syscall_process_counts {
	struct syscall_counts counts;
	/* The process's name, taken when first seen and again after each exec
	 * and prctl, in the copy of the CPU that saw it; comm_ns tells the
	 * newest copy. */
	__u64 comm_ns;
	char comm[SYSCALL_COUNTS_COMM_LEN];
};
