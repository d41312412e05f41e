// SPDX-License-Identifier: GPL-2.0
/* rwsize: bytes read and written per process, and the sizes of the reads
 * and writes as log2 histograms, at the exit of the read and write families
 * of system calls (the result is the size). Every system call runs the
 * program, which stops after a few compares for the others. Three tiers on
 * the same sys_exit, as syscount's (bpf/syscall_counts.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "syscall_nr.bpf.h"
#include "syscall_regs.bpf.h"
#include "rwsize/rwsize.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 self_tgid = 0; /* the tool itself is left out */

/* Per CPU, so the hot path never shares a cache line between CPUs; allocated
 * as processes appear (preallocation would cost max_entries times the CPUs). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, RWSIZE_MAX_PIDS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct rwsize_process);
} by_pid SEC(".maps");

enum { NOT_RW, READS, WRITES };

/* Numbers are -1 where an architecture lacks a call, so no switch. */
static __always_inline int direction_of(long nr)
{
	if (nr == SYSCALL_NR_READ || nr == SYSCALL_NR_PREAD64 || nr == SYSCALL_NR_READV ||
	    nr == SYSCALL_NR_PREADV || nr == SYSCALL_NR_PREADV2)
		return READS;
	if (nr == SYSCALL_NR_WRITE || nr == SYSCALL_NR_PWRITE64 || nr == SYSCALL_NR_WRITEV ||
	    nr == SYSCALL_NR_PWRITEV || nr == SYSCALL_NR_PWRITEV2)
		return WRITES;
	return NOT_RW;
}

static __always_inline void take_comm(struct rwsize_process *value)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	BPF_CORE_READ_STR_INTO(&value->comm, task, group_leader, comm);
	value->comm_ns = bpf_ktime_get_ns();
}

/* A process already counted takes its new name after an exec or a prctl. */
static __always_inline int maybe_renamed(long nr)
{
	struct rwsize_process *value;
	__u32 tgid;

	if (nr != SYSCALL_NR_EXECVE && nr != SYSCALL_NR_EXECVEAT && nr != SYSCALL_NR_PRCTL)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	value = bpf_map_lookup_elem(&by_pid, &tgid);
	if (value)
		take_comm(value);
	return 0;
}

static __always_inline int on_exit(long nr, long ret)
{
	int direction = direction_of(nr);
	static const struct rwsize_process zero = {}; /* too big for the stack */
	struct rwsize_process *value;
	struct rwsize_direction *d;
	__u32 tgid;

	if (direction == NOT_RW)
		return maybe_renamed(nr);
	/* 0 is end of file or nothing written: neither data nor a failure. */
	if (ret == 0 || ret < -4095)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (tgid == self_tgid || current_filtered_out())
		return 0;
	value = map_lookup_or_insert(&by_pid, &tgid, &zero);
	if (!value)
		return 0;
	if (!value->comm_ns) /* new */
		take_comm(value);
	d = direction == READS ? &value->read : &value->write;
	/* Per-CPU, but a preempted program can share the slot with another
	 * run on the same CPU, so add atomically. */
	if (ret < 0) {
		__sync_fetch_and_add(&d->errors, 1);
		return 0;
	}
	__sync_fetch_and_add(&d->calls, 1);
	__sync_fetch_and_add(&d->bytes, ret);
	log2_hist_add(d->slots, RWSIZE_SLOTS, ret);
	return 0;
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
