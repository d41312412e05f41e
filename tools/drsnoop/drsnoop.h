/* The event drsnoop's BPF program sends, shared by both sides. */
#pragma once

#define DRSNOOP_COMM_LEN 16

/* Which reclaim the task ran itself. */
enum drsnoop_kind {
	/* The page allocator found too little free memory on the host
	 * (mm_vmscan_direct_reclaim_*). */
	DRSNOOP_DIRECT = 0,
	/* A charge hit a memory cgroup's memory.high or memory.max (v1:
	 * memory.limit_in_bytes), and the task reclaims from that cgroup
	 * (mm_vmscan_memcg_reclaim_*). */
	DRSNOOP_MEMCG = 1,
	DRSNOOP_KINDS = 2,
};

#define DRSNOOP_FREE_UNKNOWN (~0ULL)

struct drsnoop_event {
	__u64 ts_ns;	    /* CLOCK_MONOTONIC, at the reclaim's end */
	__u64 lat_ns;	    /* from its begin to its end */
	__u64 nr_reclaimed; /* pages the reclaim freed */
	/* The host's free memory at the end (NR_FREE_PAGES of every zone, as
	 * /proc/vmstat's nr_free_pages), in KiB; DRSNOOP_FREE_UNKNOWN where the
	 * kernel's structures could not be read. */
	__u64 free_kb;
	__u64 gfp_flags; /* the allocation's gfp_t */
	__u64 memcg_id;	 /* the task's memory cgroup (its kernfs ID); 0: unknown */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 order; /* the allocation was of 2^order pages */
	__u32 kind;  /* enum drsnoop_kind */
	__u32 pad;
	char comm[DRSNOOP_COMM_LEN];
};
