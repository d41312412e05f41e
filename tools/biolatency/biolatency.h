/* The histogram map of biolatency, shared by both sides: one log2 histogram
 * per key, the key zero in the fields the run does not split by. */
#pragma once

/* Log2 slots: the last one also holds everything above 2^31 units. */
#define BIOLATENCY_SLOTS    32
#define BIOLATENCY_MAX_KEYS 1024

/* An operation the kernel did not name in the tracepoint record (tracepoint
 * tier only); every other op is the kernel's own REQ_OP_* number. */
#define BIOLATENCY_OP_UNKNOWN 0xffff

struct biolatency_key {
	__u32 dev; /* the disk, as the kernel's dev_t (major << 20 | minor); 0 unless -D */
	__u16 op;  /* REQ_OP_* (cmd_flags & REQ_OP_MASK); 0 unless -F */
	__u8 sync; /* REQ_SYNC was set; 0 unless -F */
	__u8 pad;
};

struct biolatency_hist {
	__u64 slots[BIOLATENCY_SLOTS];
};
