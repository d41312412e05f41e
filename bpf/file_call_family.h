/* The families of file-system calls that vfsstat and vfscount count, shared
 * by both sides. User space (common/file_calls.h) fills each tool's
 * file_call_family table (bpf/file_calls.bpf.h) from the system calls'
 * names before load. */
#pragma once

/* System call numbers at or above this are not file calls (x86_64 and the
 * generic table end below 512). */
#define FILE_CALL_MAX_NR 512

enum file_call_family {
	FILE_CALL_NONE = 0, /* not a file-system call */
	FILE_CALL_READ,	    /* read, readv, pread64, preadv, preadv2 */
	FILE_CALL_WRITE,    /* write, writev, pwrite64, pwritev, pwritev2 */
	FILE_CALL_FSYNC,    /* fsync, fdatasync, sync_file_range */
	FILE_CALL_OPEN,	    /* open, openat, openat2, open_by_handle_at */
	FILE_CALL_CREATE,   /* creat, mknod, mknodat, and opens with O_CREAT (vfsstat) */
	FILE_CALL_UNLINK,   /* unlink, unlinkat */
	FILE_CALL_MKDIR,    /* mkdir, mkdirat */
	FILE_CALL_RMDIR,    /* rmdir, and unlinkat with AT_REMOVEDIR (vfsstat) */
	FILE_CALL_RENAME,   /* rename, renameat, renameat2 */
	FILE_CALL_STAT,	    /* stat, lstat, fstat, newfstatat, statx */
	FILE_CALL_FAMILIES,
};
