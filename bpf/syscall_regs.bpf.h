/* The number of the system call a thread is in, from its saved registers:
 * what the raw sys_exit tracepoints (tp_btf, raw_tp) must read, as they get
 * the registers and the result but not the number. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* The number of the call a thread is returning from, as syscall_get_nr()
 * reads it. */
static __always_inline long syscall_nr_of(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ(regs, syscallno);
#elif defined(__TARGET_ARCH_riscv)
	return BPF_CORE_READ(regs, a7);
#elif defined(__TARGET_ARCH_loongarch)
	return BPF_CORE_READ(regs, regs[11]);
#endif
}
