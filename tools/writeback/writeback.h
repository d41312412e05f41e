/* The event writeback's BPF program sends, shared by both sides: one pass
 * of the flusher's writeback loop (wb_writeback), from its writeback_start
 * to its writeback_written tracepoint. */
#pragma once

#define WRITEBACK_NAME_LEN 32

struct writeback_event {
	__u64 ts_ns;		      /* CLOCK_MONOTONIC, at writeback_written */
	__u64 lat_ns;		      /* from writeback_start to writeback_written */
	__s64 pages;		      /* pages written in the pass: the work's page budget at
				       * start less what was left of it at the end */
	__u32 sb_dev;		      /* the super block written, kernel dev_t (major << 20 |
				       * minor); 0: every super block on the device */
	__u32 reason;		      /* enum wb_reason: background, vmscan, sync, ... */
	__u32 sync_mode;	      /* 0: WB_SYNC_NONE, 1: WB_SYNC_ALL (data integrity) */
	__u32 pid;		      /* the flusher thread (a kworker) */
	char bdi[WRITEBACK_NAME_LEN]; /* the backing device, "253:0" for a disk */
};
