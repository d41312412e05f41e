// SPDX-License-Identifier: GPL-2.0
/* klockstat: kernel lock contention. lock:contention_begin (5.19+) stamps
 * the waiting thread, the lock, its flags and the kernel stack;
 * lock:contention_end adds the wait to the entry of that lock, flags and
 * stack (and thread, with --per-thread): a count, a sum and the longest.
 * The in-flight waits are keyed by thread and lock, so a spinlock waited
 * for inside a mutex's slow path is timed apart from the mutex. Nothing
 * goes to user space per wait: the loader reads the map every interval. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "maps.bpf.h"
#include "stacks.bpf.h"
#include "klockstat/klockstat.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_thread = false; /* --per-thread: the thread in the key */
const volatile __u64 only_lock = 0;	/* --lock: its address; 0 for all */

/* Waits that ended without a table entry (the table was full). */
__u64 waits_dropped = 0;

struct wait_key {
	__u64 lock_addr;
	__u32 tid;
	__u32 pad;
};

struct wait_start {
	__u64 start_ns;
	__s32 kernel_stack_id;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KLOCKSTAT_MAX_WAITS);
	__type(key, struct wait_key);
	__type(value, struct wait_start);
} waits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KLOCKSTAT_MAX_KEYS);
	__type(key, struct klockstat_key);
	__type(value, struct klockstat_value);
} totals SEC(".maps");

static __always_inline void contention_began(void *ctx, __u64 lock, __u32 flags)
{
	struct wait_key key = {};
	struct wait_start start = {};

	if (only_lock && lock != only_lock)
		return;
	if (current_filtered_out())
		return;
	key.lock_addr = lock;
	key.tid = (__u32)bpf_get_current_pid_tgid();
	start.start_ns = bpf_ktime_get_ns();
	start.kernel_stack_id = stack_id_of(ctx, 0);
	start.flags = flags;
	bpf_map_update_elem(&waits, &key, &start, BPF_ANY);
}

static __always_inline void contention_ended(__u64 lock)
{
	static const struct klockstat_value zero = {};
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct wait_key key = {};
	struct klockstat_key total = {};
	struct klockstat_value *value;
	struct wait_start *start;
	__u64 delta, seen, old;

	key.lock_addr = lock;
	key.tid = (__u32)pid_tgid;
	start = bpf_map_lookup_elem(&waits, &key);
	if (!start)
		return;
	delta = bpf_ktime_get_ns() - start->start_ns;
	total.lock_addr = lock;
	total.kernel_stack_id = start->kernel_stack_id;
	total.flags = start->flags;
	bpf_map_delete_elem(&waits, &key);
	if ((__s64)delta < 0)
		return;
	if (per_thread) {
		total.pid = pid_tgid >> 32;
		total.tid = (__u32)pid_tgid;
		bpf_get_current_comm(total.comm, sizeof(total.comm));
	}
	value = map_lookup_or_insert(&totals, &total, &zero);
	if (!value) {
		__sync_fetch_and_add(&waits_dropped, 1);
		return;
	}
	__sync_fetch_and_add(&value->count, 1);
	__sync_fetch_and_add(&value->total_ns, delta);
	/* The longest wait, kept exact under concurrent updates: a few tries. */
	old = value->max_ns;
	for (int i = 0; i < 4 && delta > old; i++) {
		seen = __sync_val_compare_and_swap(&value->max_ns, old, delta);
		if (seen == old)
			break;
		old = seen;
	}
}

SEC("tp_btf/contention_begin")
int BPF_PROG(btf_contention_begin, void *lock, unsigned int flags)
{
	contention_began(ctx, (__u64)lock, flags);
	return 0;
}

SEC("tp_btf/contention_end")
int BPF_PROG(btf_contention_end, void *lock, int ret)
{
	contention_ended((__u64)lock);
	return 0;
}

SEC("raw_tp/contention_begin")
int BPF_PROG(raw_contention_begin, void *lock, unsigned int flags)
{
	contention_began(ctx, (__u64)lock, flags);
	return 0;
}

SEC("raw_tp/contention_end")
int BPF_PROG(raw_contention_end, void *lock, int ret)
{
	contention_ended((__u64)lock);
	return 0;
}

SEC("tracepoint/lock/contention_begin")
int tp_contention_begin(struct trace_event_raw_contention_begin *ctx)
{
	contention_began(ctx, (__u64)ctx->lock_addr, ctx->flags);
	return 0;
}

SEC("tracepoint/lock/contention_end")
int tp_contention_end(struct trace_event_raw_contention_end *ctx)
{
	contention_ended((__u64)ctx->lock_addr);
	return 0;
}
