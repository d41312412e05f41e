/* The histogram map of bitesize, shared by both sides: one log2 histogram
 * of block request sizes, in KiB, per issuing task name (and, with -P, per
 * process). */
#pragma once

/* Log2 slots of KiB: slot 0 holds 0 and 1 KiB (requests under 2 KiB), slot
 * i holds 2^i to 2^(i+1)-1 KiB; the last one also holds everything above. */
#define BITESIZE_SLOTS	  32
#define BITESIZE_MAX_KEYS 10240
#define BITESIZE_COMM_LEN 16

struct bitesize_key {
	__u32 pid;		      /* the issuer's process (thread group ID); 0 unless -P */
	char comm[BITESIZE_COMM_LEN]; /* the issuing thread's name at issue time */
};

struct bitesize_hist {
	__u64 slots[BITESIZE_SLOTS]; /* requests by size: slot log2(bytes / 1024) */
};
