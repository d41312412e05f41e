/* System call numbers for the raw sys_enter/sys_exit tracepoints, which see
 * every call and must pick theirs by number. -1 where an architecture lacks
 * the call (arm64 has no open() or creat()). */
#pragma once

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR_OPEN 2
#define SYSCALL_NR_CREAT 85
#define SYSCALL_NR_OPENAT 257
#define SYSCALL_NR_OPENAT2 437
#define SYSCALL_NR_EXECVE 59
#define SYSCALL_NR_EXECVEAT 322
#define SYSCALL_NR_READ 0
#define SYSCALL_NR_WRITE 1
#define SYSCALL_NR_PREAD64 17
#define SYSCALL_NR_PWRITE64 18
#define SYSCALL_NR_READV 19
#define SYSCALL_NR_WRITEV 20
#define SYSCALL_NR_FSYNC 74
#define SYSCALL_NR_FDATASYNC 75
#define SYSCALL_NR_PREADV 295
#define SYSCALL_NR_PWRITEV 296
#define SYSCALL_NR_PREADV2 327
#define SYSCALL_NR_PWRITEV2 328
#define SYSCALL_NR_ACCEPT 43
#define SYSCALL_NR_ACCEPT4 288
#elif defined(__TARGET_ARCH_arm64) || defined(__TARGET_ARCH_riscv) || defined(__TARGET_ARCH_loongarch)
/* the generic system call table */
#define SYSCALL_NR_OPEN -1
#define SYSCALL_NR_CREAT -1
#define SYSCALL_NR_OPENAT 56
#define SYSCALL_NR_OPENAT2 437
#define SYSCALL_NR_EXECVE 221
#define SYSCALL_NR_EXECVEAT 281
#define SYSCALL_NR_READ 63
#define SYSCALL_NR_WRITE 64
#define SYSCALL_NR_PREAD64 67
#define SYSCALL_NR_PWRITE64 68
#define SYSCALL_NR_READV 65
#define SYSCALL_NR_WRITEV 66
#define SYSCALL_NR_FSYNC 82
#define SYSCALL_NR_FDATASYNC 83
#define SYSCALL_NR_PREADV 69
#define SYSCALL_NR_PWRITEV 70
#define SYSCALL_NR_PREADV2 286
#define SYSCALL_NR_PWRITEV2 287
#define SYSCALL_NR_ACCEPT 202
#define SYSCALL_NR_ACCEPT4 242
#else
#error "add this architecture's system call numbers"
#endif
