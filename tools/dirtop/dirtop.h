/* dirtop's map: reads and writes of files under each watched directory,
 * counted in the kernel and read and emptied by user space every interval.
 * Shared by both sides. */
#pragma once

#define DIRTOP_MAX_DIRS 64
#define DIRTOP_DEPTH	64 /* directories walked up from a file, mount points included */

/* A watched directory: its inode on its superblock's device. */
struct dirtop_dir {
	__u64 ino;
	__u32 dev; /* kernel dev_t (12 bits major above 20 of minor) */
	__u32 pad;
};

struct dirtop_key {
	__u32 dir; /* the index of the watched directory (its --dir order) */
};

struct dirtop_value {
	__u64 reads;	   /* read-family calls that succeeded on files under it */
	__u64 writes;	   /* write-family calls that succeeded */
	__u64 read_bytes;  /* their results: bytes read */
	__u64 write_bytes; /* bytes written */
};
