/* The counters vfsstat's BPF programs keep per CPU, shared by both sides.
 * They only grow; the loader prints the difference every interval. */
#pragma once

#include "file_call_family.h"

struct vfsstat_counts {
	__u64 calls[FILE_CALL_FAMILIES]; /* by enum file_call_family; [FILE_CALL_NONE]: every file
					  * call counted, once (an open with O_CREAT is an open and
					  * a create) */
};
