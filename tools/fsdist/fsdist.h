/* The histogram map of fsdist, shared by both sides: one log2 histogram of
 * latency per operation (the key: an enum fs_call_op, bpf/fs_calls.h). */
#pragma once

#include "fs_calls.h"

/* Log2 slots: the last one also holds everything above 2^31 units. */
#define FSDIST_SLOTS 32

struct fsdist_hist {
	__u64 slots[FSDIST_SLOTS];
};
