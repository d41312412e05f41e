/* filetop's map: reads and writes per process and file, counted in the
 * kernel and read and emptied by user space every interval. Shared by both
 * sides. */
#pragma once

#define FILETOP_COMM_LEN 16
#define FILETOP_NAME_LEN 128
#define FILETOP_FILES	 10240

struct filetop_key {
	__u32 pid; /* the process (thread group ID) that read or wrote */
	__u32 dev; /* the file's superblock's device (kernel dev_t) */
	__u64 ino; /* the file's inode number */
};

struct filetop_value {
	__u64 reads;		     /* read-family calls that succeeded */
	__u64 writes;		     /* write-family calls that succeeded */
	__u64 read_bytes;	     /* their results: bytes read */
	__u64 write_bytes;	     /* bytes written */
	char comm[FILETOP_COMM_LEN]; /* the process's name when the entry was made */
	__u16 mode;		     /* the inode's mode: S_IFMT bits and permissions */
	char type;		     /* R: regular file, S: socket, O: other */
	char name[FILETOP_NAME_LEN]; /* the file's name (its dentry's, not the path;
				      * empty for a pipe) */
};
