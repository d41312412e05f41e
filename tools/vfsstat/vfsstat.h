/* The counters vfsstat's BPF programs keep per CPU, shared by both sides.
 * They only grow; the loader prints the difference every interval. */
#pragma once

#include "file_call_family.h"

struct vfsstat_counts {
	__u64 calls[FILE_CALL_FAMILIES]; /* by enum file_call_family; [0] unused */
};
