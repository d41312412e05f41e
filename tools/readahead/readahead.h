/* readahead's maps and totals, shared by both sides: the folios readahead
 * brought into the page cache, kept until first used or evicted, and the
 * counts over the run. */
#pragma once

#define READAHEAD_SLOTS	 32	/* log2 slots of the age histogram */
#define READAHEAD_FOLIOS 131072 /* folios read ahead and not yet used or evicted */

/* A page cache folio, by its file and its first page's index. */
struct readahead_folio_key {
	__u64 ino;   /* the file's inode number */
	__u64 index; /* the folio's first page, in pages from the file's start */
	__u32 dev;   /* the file system's device (kernel dev_t) */
	__u32 pad;
};

struct readahead_folio {
	__u64 born_ns; /* when readahead inserted it (CLOCK_MONOTONIC) */
	__u32 pages;   /* its size in pages */
	__u32 used;    /* accessed since */
};

/* The run's counts (a global in .bss, updated atomically). */
struct readahead_totals {
	__u64 pages;	      /* pages readahead inserted */
	__u64 used;	      /* of those, pages accessed at least once */
	__u64 evicted_unused; /* of those, pages evicted before any access */
	__u64 untracked;      /* pages read ahead the folio table had no room for
			       * (counted in pages, never used nor evicted) */
	/* used pages by their age at first access, log2 slots of
	 * microseconds, or milliseconds with -m (slot 0 also 0) */
	__u64 age[READAHEAD_SLOTS];
};
