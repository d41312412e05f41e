/* Reads and writes per process and file (filetop, triage): the map's key and
 * value, shared by both sides. bpf/file_rw_by_file.bpf.h counts them. */
#pragma once

#define FILE_RW_COMM_LEN 16
#define FILE_RW_NAME_LEN 128
#define FILE_RW_FILES	 10240

struct file_rw_key {
	__u32 pid; /* the process (thread group ID) that read or wrote */
	__u32 dev; /* the file's superblock's device (kernel dev_t) */
	__u64 ino; /* the file's inode number */
};

struct file_rw_counts {
	__u64 reads;		     /* read-family calls that succeeded */
	__u64 writes;		     /* write-family calls that succeeded */
	__u64 read_bytes;	     /* their results: bytes read */
	__u64 write_bytes;	     /* bytes written */
	char comm[FILE_RW_COMM_LEN]; /* the process's name when the entry was made */
	__u16 mode;		     /* the inode's mode: S_IFMT bits and permissions */
	char type;		     /* R: regular file, S: socket, O: other */
	char name[FILE_RW_NAME_LEN]; /* the file's name (its dentry's, not the path;
				      * empty for a pipe) */
};
