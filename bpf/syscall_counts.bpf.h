/* Counting system calls by number or by process, optionally with the time
 * spent in them, for the programs on sys_enter/sys_exit of syscount and
 * vfscount: the tool's programs call syscall_counts_exit() (and, with
 * --latency, syscall_counts_enter()) for the calls they count.
 *
 * Counting needs only the exit of each call, where the number (from the
 * saved registers) and the result are both at hand; --latency adds the
 * entry, which stamps the start per thread. Counts go into per-CPU slots
 * that only grow, so user space reads them without stopping the kernel side
 * and reports the difference between two reads (common/syscall_counts.h). */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "filters.bpf.h"
#include "syscall_count_values.h"
#include "syscall_nr.bpf.h"
#include "syscall_regs.bpf.h"

const volatile bool by_process = false;
const volatile bool measure_latency = false;
const volatile bool failed_only = false;
const volatile __s32 only_errno = 0; /* count only calls that fail with this errno */
const volatile __u32 self_tgid = 0;  /* the tool itself is left out */

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_COUNTS_NR_EXIT	     60
#define SYSCALL_COUNTS_NR_EXIT_GROUP 231
#define SYSCALL_COUNTS_NR_PRCTL	     157
#elif defined(__TARGET_ARCH_arm64) || defined(__TARGET_ARCH_riscv) ||                              \
	defined(__TARGET_ARCH_loongarch)
#define SYSCALL_COUNTS_NR_EXIT	     93
#define SYSCALL_COUNTS_NR_EXIT_GROUP 94
#define SYSCALL_COUNTS_NR_PRCTL	     167
#else
#error "add this architecture's exit system call numbers"
#endif

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCALL_COUNTS_MAX_NR);
	__type(key, __u32);
	__type(value, struct syscall_counts);
} by_nr SEC(".maps");

/* Allocated as processes appear: preallocation would cost max_entries
 * times the number of CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SYSCALL_COUNTS_MAX_PIDS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct syscall_process_counts);
} by_pid SEC(".maps");

/* Entry time per thread, with --latency. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

static __always_inline int syscall_counts_enter(long nr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	__u64 now;

	/* These never return, so their entry would never be cleared. */
	if (nr == SYSCALL_COUNTS_NR_EXIT || nr == SYSCALL_COUNTS_NR_EXIT_GROUP)
		return 0;
	if (pid_tgid >> 32 == self_tgid || current_filtered_out())
		return 0;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &now, BPF_ANY);
	return 0;
}

static __always_inline void syscall_counts_take_comm(struct syscall_process_counts *value)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	BPF_CORE_READ_STR_INTO(&value->comm, task, group_leader, comm);
	value->comm_ns = bpf_ktime_get_ns();
}

static __always_inline bool syscall_counts_renames(long nr)
{
	return nr == SYSCALL_NR_EXECVE || nr == SYSCALL_NR_EXECVEAT ||
	       nr == SYSCALL_COUNTS_NR_PRCTL;
}

/* nr: the call returning, which may have renamed the process. */
static __always_inline struct syscall_counts *syscall_counts_process_slot(__u32 tgid, long nr)
{
	struct syscall_process_counts *value = bpf_map_lookup_elem(&by_pid, &tgid);
	struct syscall_process_counts fresh = {};

	if (value) {
		if (syscall_counts_renames(nr))
			syscall_counts_take_comm(value);
		return &value->counts;
	}
	syscall_counts_take_comm(&fresh);
	bpf_map_update_elem(&by_pid, &tgid, &fresh, BPF_NOEXIST);
	value = bpf_map_lookup_elem(&by_pid, &tgid);
	return value ? &value->counts : NULL;
}

static __always_inline int syscall_counts_exit(long nr, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct syscall_counts *value;
	__u64 elapsed = 0;
	__u32 key;

	if (measure_latency) {
		/* Only threads that passed the filters at entry have a start. */
		__u64 *begin = bpf_map_lookup_elem(&start, &tid);

		if (!begin)
			return 0;
		elapsed = bpf_ktime_get_ns() - *begin;
		bpf_map_delete_elem(&start, &tid);
	}
	if (only_errno) {
		if (ret != -only_errno)
			return 0;
	} else if (failed_only && !(ret < 0 && ret >= -4095)) {
		return 0;
	}
	if (nr < 0 || nr >= SYSCALL_COUNTS_MAX_NR)
		return 0;
	if (!measure_latency && (pid_tgid >> 32 == self_tgid || current_filtered_out()))
		return 0;

	if (by_process) {
		value = syscall_counts_process_slot(pid_tgid >> 32, nr);
	} else {
		key = nr;
		value = bpf_map_lookup_elem(&by_nr, &key);
	}
	if (!value)
		return 0;
	/* Per-CPU, but a preempted program can share the slot with another
	 * run on the same CPU, so add atomically. */
	__sync_fetch_and_add(&value->count, 1);
	if (measure_latency)
		__sync_fetch_and_add(&value->total_ns, elapsed);
	return 0;
}

/* For a call the tool does not count: with by_process, a process already
 * counted takes its new name after an exec or prctl, as it would at a
 * counted call. */
static __always_inline int syscall_counts_uncounted_exit(long nr)
{
	struct syscall_process_counts *value;
	__u32 tgid;

	if (!by_process || !syscall_counts_renames(nr))
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	value = bpf_map_lookup_elem(&by_pid, &tgid);
	if (value)
		syscall_counts_take_comm(value);
	return 0;
}
