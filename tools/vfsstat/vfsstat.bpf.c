// SPDX-License-Identifier: GPL-2.0
/* vfsstat: file-system calls counted by family (reads, writes, fsyncs,
 * opens, creates, unlinks, mkdirs, rmdirs, renames, stats) as they enter
 * the kernel, on the raw sys_enter tracepoint: every system call runs the
 * program, which stops after one table load for calls that are not file
 * calls (bpf/file_calls.bpf.h).
 *
 * Two families look at an argument: an open with O_CREAT also counts as a
 * create, and unlinkat() with AT_REMOVEDIR is an rmdir. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "file_calls.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "vfsstat/vfsstat.h"

char LICENSE[] SEC("license") = "GPL";

/* Not in vmlinux.h (macros); the same on every architecture corescope builds for. */
#define VFSSTAT_O_CREAT	     0100
#define VFSSTAT_AT_REMOVEDIR 0x200

const volatile __u32 self_tgid = 0; /* vfsstat's own reads are left out */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vfsstat_counts);
} counts SEC(".maps");

/* A system call's argument (0-based), from the tracefs tracepoint's copy
 * (args) where it is given, else from the saved registers (regs). */
static __always_inline unsigned long arg_of(struct pt_regs *regs, const unsigned long *args, int i)
{
	if (args)
		return args[i];
	switch (i) {
	case 1:
		return PT_REGS_PARM2_CORE_SYSCALL(regs);
	default:
		return PT_REGS_PARM3_CORE_SYSCALL(regs);
	}
}

/* The open flags of an open call, or 0. */
static __always_inline __u64 open_flags(long nr, struct pt_regs *regs, const unsigned long *args)
{
	__u64 flags = 0;

	if (nr == SYSCALL_NR_OPEN)
		return arg_of(regs, args, 1);
	if (nr == SYSCALL_NR_OPENAT)
		return arg_of(regs, args, 2);
	if (nr == SYSCALL_NR_OPENAT2) {
		/* struct open_how starts with its __u64 flags. */
		bpf_probe_read_user(&flags, sizeof(flags), (void *)arg_of(regs, args, 2));
		return flags;
	}
	return 0;
}

static __always_inline void add(struct vfsstat_counts *c, enum file_call_family family)
{
	/* Per-CPU, but a preempted program can share the slot with another
	 * run on the same CPU, so add atomically. */
	if (family > FILE_CALL_NONE && family < FILE_CALL_FAMILIES)
		__sync_fetch_and_add(&c->calls[family], 1);
}

static __always_inline int on_enter(long nr, struct pt_regs *regs, const unsigned long *args)
{
	enum file_call_family family = file_call_family_of(nr);
	struct vfsstat_counts *c;
	__u32 zero = 0;

	if (family == FILE_CALL_NONE)
		return 0;
	if (bpf_get_current_pid_tgid() >> 32 == self_tgid || current_filtered_out())
		return 0;
	c = bpf_map_lookup_elem(&counts, &zero);
	if (!c)
		return 0;
	if (family == FILE_CALL_UNLINK && nr == SYSCALL_NR_UNLINKAT &&
	    (arg_of(regs, args, 2) & VFSSTAT_AT_REMOVEDIR))
		family = FILE_CALL_RMDIR;
	__sync_fetch_and_add(&c->calls[FILE_CALL_NONE], 1);
	add(c, family);
	if (family == FILE_CALL_OPEN && (open_flags(nr, regs, args) & VFSSTAT_O_CREAT))
		add(c, FILE_CALL_CREATE);
	return 0;
}

/* Tier 1: BTF-typed raw tracepoint. */

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_enter, struct pt_regs *regs, long id) { return on_enter(id, regs, NULL); }

/* Tier 2: raw tracepoint. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	return on_enter(ctx->args[1], (struct pt_regs *)ctx->args[0], NULL);
}

/* Tier 3: the raw_syscalls tracepoint (needs tracefs). */

SEC("tracepoint/raw_syscalls/sys_enter")
int tp_enter(struct trace_event_raw_sys_enter *ctx)
{
	/* Copied: the verifier refuses loads through a pointer into the context. */
	unsigned long args[3] = { ctx->args[0], ctx->args[1], ctx->args[2] };

	return on_enter(ctx->id, NULL, args);
}
