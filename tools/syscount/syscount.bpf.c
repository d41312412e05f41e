// SPDX-License-Identifier: GPL-2.0
/* syscount: count system calls by number or by process, optionally with the
 * time spent in them; every call counts (bpf/syscall_counts.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "syscall_counts.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Tier 1: BTF-typed raw tracepoints (the registers are read directly). */

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_enter, struct pt_regs *regs, long id) { return syscall_counts_enter(id); }

SEC("tp_btf/sys_exit")
int BPF_PROG(btf_exit, struct pt_regs *regs, long ret)
{
	return syscall_counts_exit(syscall_nr_of(regs), ret);
}

/* Tier 2: raw tracepoints. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx) { return syscall_counts_enter(ctx->args[1]); }

SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return syscall_counts_exit(syscall_nr_of((struct pt_regs *)ctx->args[0]), ctx->args[1]);
}

/* Tier 3: the raw_syscalls tracepoints (need tracefs). */

SEC("tracepoint/raw_syscalls/sys_enter")
int tp_enter(struct trace_event_raw_sys_enter *ctx) { return syscall_counts_enter(ctx->id); }

SEC("tracepoint/raw_syscalls/sys_exit")
int tp_exit(struct trace_event_raw_sys_exit *ctx) { return syscall_counts_exit(ctx->id, ctx->ret); }
