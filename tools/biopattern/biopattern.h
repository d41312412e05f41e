/* The maps of biopattern, shared by both sides: per disk, how many completed
 * requests started where the disk's previous one ended (sequential) and how
 * many did not (random), and their bytes. */
#pragma once

#define BIOPATTERN_MAX_DISKS 1024

struct biopattern_counts {
	__u64 sequential; /* requests that started at the end of the disk's previous one */
	__u64 random;	  /* every other request with data (the first one seen too) */
	__u64 bytes;	  /* the bytes of both */
};
