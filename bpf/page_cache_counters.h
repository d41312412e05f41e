/* The page cache counters kept per CPU by PAGE_CACHE_PROGRAMS()
 * (page_cache.bpf.h), shared by both sides (cachestat, triage). They only
 * grow; a reader takes the difference between two readings. */
#pragma once

struct page_cache_counters {
	__u64 read_pages;    /* pages read() and friends looked up in the page cache */
	__u64 faults;	     /* page faults on file mappings that looked up a page */
	__u64 added;	     /* pages inserted into the page cache */
	__u64 added_dirtied; /* of those, pages a write created (dirtied right after insertion) */
	__u64 dirtied;	     /* pages that turned dirty */
	/* The classic tool's counts, by call, where kernel functions can be
	 * traced (fentry, kprobe). */
	__u64 calls_accessed;	  /* folio_mark_accessed */
	__u64 calls_added;	  /* filemap_add_folio */
	__u64 calls_buffer_dirty; /* mark_buffer_dirty */
	__u64 dirtied_folios;	  /* writeback_dirty_folio, one per folio */
};

/* The key of page_cache_processes, where a tool counts by process
 * (PAGE_CACHE_BY_PROCESS, cachetop). */
#define PAGE_CACHE_PROCESSES 10240
#define PAGE_CACHE_COMM_LEN  16

struct page_cache_process_key {
	__u32 tgid;			/* the process */
	__u32 uid;			/* its thread's user ID */
	char comm[PAGE_CACHE_COMM_LEN]; /* its thread's command */
};
