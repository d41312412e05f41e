// SPDX-License-Identifier: GPL-2.0
/* vfscount: count file-system calls by call or by process, at the exit of
 * each call as syscount counts (bpf/syscall_counts.bpf.h); every system
 * call runs the program, which stops after one table load for calls that
 * are not file calls (bpf/file_calls.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "file_calls.bpf.h"
#include "syscall_counts.bpf.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline int on_exit(long nr, long ret)
{
	if (file_call_family_of(nr) == FILE_CALL_NONE)
		return syscall_counts_uncounted_exit(nr);
	return syscall_counts_exit(nr, ret);
}

/* Tier 1: BTF-typed raw tracepoint (the registers are read directly). */

SEC("tp_btf/sys_exit")
int BPF_PROG(btf_exit, struct pt_regs *regs, long ret) { return on_exit(syscall_nr_of(regs), ret); }

/* Tier 2: raw tracepoint. */

SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return on_exit(syscall_nr_of((struct pt_regs *)ctx->args[0]), ctx->args[1]);
}

/* Tier 3: the raw_syscalls tracepoint (needs tracefs). */

SEC("tracepoint/raw_syscalls/sys_exit")
int tp_exit(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx->id, ctx->ret); }
