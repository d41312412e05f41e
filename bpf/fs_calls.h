/* The file-system calls bpf/fs_calls.bpf.h times (fsslower, fsdist), shared
 * by both sides: which operation a call is and which system call it was. */
#pragma once

#define FS_CALLS_TYPE_LEN  16 /* file_system_type.name, with its NUL */
#define FS_CALLS_MAX_TYPES 4  /* --type ext4,xfs,... */

/* fsslower's T column, fsdist's histograms. */
enum fs_call_op {
	FS_CALL_OP_READ = 0,
	FS_CALL_OP_WRITE = 1,
	FS_CALL_OP_OPEN = 2,
	FS_CALL_OP_FSYNC = 3,
	FS_CALL_OP_COUNT = 4,
};

/* Which system call it was (fsslower's JSON "syscall"). */
enum fs_call_syscall {
	FS_CALL_READ,
	FS_CALL_WRITE,
	FS_CALL_PREAD64,
	FS_CALL_PWRITE64,
	FS_CALL_READV,
	FS_CALL_WRITEV,
	FS_CALL_PREADV,
	FS_CALL_PWRITEV,
	FS_CALL_PREADV2,
	FS_CALL_PWRITEV2,
	FS_CALL_OPEN,
	FS_CALL_OPENAT,
	FS_CALL_OPENAT2,
	FS_CALL_CREAT,
	FS_CALL_FSYNC,
	FS_CALL_FDATASYNC,
	FS_CALL_SYSCALL_COUNT,
};
