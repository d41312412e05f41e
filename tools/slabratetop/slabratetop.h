/* slabratetop's map: allocations per slab cache, counted in the kernel and
 * read and emptied by user space every interval. Shared by both sides. */
#pragma once

#define SLABRATETOP_NAME_LEN 32
#define SLABRATETOP_CACHES   4096

struct slabratetop_key {
	/* The struct kmem_cache's address (BTF and raw tracepoints), or a hash
	 * of the cache's name (the tracefs tracepoint, which has no pointer);
	 * user space adds up entries by name. */
	__u64 cache;
};

struct slabratetop_value {
	__u64 allocs;			 /* allocation calls (a failed one, rare, too) */
	__u64 bytes;			 /* their bytes: the cache's object size (with its
					  * metadata and alignment, slabinfo's objsize) each */
	__u64 size;			 /* that size, 0 when the tier gives it per allocation */
	char name[SLABRATETOP_NAME_LEN]; /* the cache's name */
};
