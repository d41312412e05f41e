/* The event compactsnoop's BPF program sends, shared by both sides. */
#pragma once

#define COMPACTSNOOP_COMM_LEN 16
#define COMPACTSNOOP_ZONE_LEN 16
#define COMPACTSNOOP_UNKNOWN  (~0ULL)

/* The compaction's migration mode (the kernel's enum migrate_mode, whose
 * values the BPF side reads from BTF). */
enum compactsnoop_mode {
	COMPACTSNOOP_ASYNC = 0,
	COMPACTSNOOP_SYNC_LIGHT = 1,
	COMPACTSNOOP_SYNC = 2,
	COMPACTSNOOP_MODE_UNKNOWN = 3,
	COMPACTSNOOP_MODES = 4,
};

/* How it ended (the kernel's enum compact_result, by name). */
enum compactsnoop_status {
	COMPACTSNOOP_NOT_SUITABLE_ZONE = 0,
	COMPACTSNOOP_SKIPPED = 1,
	COMPACTSNOOP_DEFERRED = 2,
	COMPACTSNOOP_NO_SUITABLE_PAGE = 3,
	COMPACTSNOOP_CONTINUE = 4,
	COMPACTSNOOP_COMPLETE = 5,
	COMPACTSNOOP_PARTIAL_SKIPPED = 6,
	COMPACTSNOOP_CONTENDED = 7,
	COMPACTSNOOP_SUCCESS = 8,
	COMPACTSNOOP_STATUS_UNKNOWN = 9,
	COMPACTSNOOP_STATUSES = 10,
};

/* One compaction of one zone, from mm_compaction_begin to mm_compaction_end. */
struct compactsnoop_event {
	__u64 ts_ns;  /* CLOCK_MONOTONIC, at its end */
	__u64 lat_ns; /* from its begin to its end */
	/* The zone at the begin, in pages; COMPACTSNOOP_UNKNOWN where they could
	 * not be read: its free pages and its min, low and high watermarks. */
	__u64 free_pages;
	__u64 min_pages;
	__u64 low_pages;
	__u64 high_pages;
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 node;   /* the zone's NUMA node; -1: unknown */
	__s32 order;  /* compacting for a block of 2^order pages; -1: the whole zone */
	__u32 mode;   /* enum compactsnoop_mode */
	__u32 status; /* enum compactsnoop_status */
	__u32 pad;
	char zone[COMPACTSNOOP_ZONE_LEN]; /* the kernel's name of the zone ("DMA32", "Normal") */
	char comm[COMPACTSNOOP_COMM_LEN];
};
