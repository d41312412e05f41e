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
#elif defined(__TARGET_ARCH_arm64) || defined(__TARGET_ARCH_riscv) || defined(__TARGET_ARCH_loongarch)
/* the generic system call table */
#define SYSCALL_NR_OPEN -1
#define SYSCALL_NR_CREAT -1
#define SYSCALL_NR_OPENAT 56
#define SYSCALL_NR_OPENAT2 437
#define SYSCALL_NR_EXECVE 221
#define SYSCALL_NR_EXECVEAT 281
#else
#error "add this architecture's system call numbers"
#endif
