// SPDX-License-Identifier: GPL-2.0
/* klockstat: kernel lock contention. lock:contention_begin (5.19+) stamps
 * the waiting thread, the lock, its flags and the kernel stack;
 * lock:contention_end adds the wait to the entry of that lock, flags and
 * stack (and thread, with --per-thread): a count, a sum and the longest.
 * The in-flight waits are keyed by thread and lock, so a spinlock waited
 * for inside a mutex's slow path is timed apart from the mutex. Nothing
 * goes to user space per wait: the loader reads the map every interval.
 *
 * Hold times, where the kernel lets mutex_lock, down_read, down_write and
 * their kin be probed (fentry/fexit, else kprobes/kretprobes): the entry
 * of an acquisition stamps the thread with the lock, its kind and the
 * kernel stack; its return, if it took the lock, starts the hold, keyed by
 * lock and thread; the entry of mutex_unlock, up_read or up_write ends it
 * and adds it to the hold_totals entry of that lock, kind and stack. */
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
/* Holds that ended without a table entry (the table was full). */
__u64 holds_dropped = 0;

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

/* An acquisition under way, by thread: its lock, kind and stack. */
struct acquiring {
	__u64 lock_addr;
	__s32 kernel_stack_id;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KLOCKSTAT_MAX_WAITS);
	__type(key, __u32);
	__type(value, struct acquiring);
} acquirings SEC(".maps");

/* A lock held now: since when, and what took it. Keyed like waits. */
struct held {
	__u64 start_ns;
	__s32 kernel_stack_id;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KLOCKSTAT_MAX_HELD);
	__type(key, struct wait_key);
	__type(value, struct held);
} held SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KLOCKSTAT_MAX_KEYS);
	__type(key, struct klockstat_key);
	__type(value, struct klockstat_value);
} hold_totals SEC(".maps");

/* Adds one wait or hold of delta ns to the entry of key in map; false when
 * the map is full. */
static __always_inline bool add_time(void *map, struct klockstat_key *key, __u64 delta)
{
	static const struct klockstat_value zero = {};
	struct klockstat_value *value;
	__u64 seen, old;

	value = map_lookup_or_insert(map, key, &zero);
	if (!value)
		return false;
	__sync_fetch_and_add(&value->count, 1);
	__sync_fetch_and_add(&value->total_ns, delta);
	/* The longest, kept exact under concurrent updates: a few tries. */
	old = value->max_ns;
	for (int i = 0; i < 4 && delta > old; i++) {
		seen = __sync_val_compare_and_swap(&value->max_ns, old, delta);
		if (seen == old)
			break;
		old = seen;
	}
	return true;
}

static __always_inline void keep_thread(struct klockstat_key *key, __u64 pid_tgid)
{
	if (!per_thread)
		return;
	key->pid = pid_tgid >> 32;
	key->tid = (__u32)pid_tgid;
	bpf_get_current_comm(key->comm, sizeof(key->comm));
}

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
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct wait_key key = {};
	struct klockstat_key total = {};
	struct wait_start *start;
	__u64 delta;

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
	keep_thread(&total, pid_tgid);
	if (!add_time(&totals, &total, delta))
		__sync_fetch_and_add(&waits_dropped, 1);
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

/* --- hold times ------------------------------------------------------------ */

/* The entry of an acquisition: the thread, the lock, its kind, the stack. */
static __always_inline void hold_acquiring(void *ctx, __u64 lock, __u32 flags)
{
	struct acquiring a = {};
	__u32 tid;

	if (only_lock && lock != only_lock)
		return;
	if (current_filtered_out())
		return;
	tid = (__u32)bpf_get_current_pid_tgid();
	a.lock_addr = lock;
	a.kernel_stack_id = stack_id_of(ctx, 0);
	a.flags = flags;
	bpf_map_update_elem(&acquirings, &tid, &a, BPF_ANY);
}

/* Its return: taken (the hold starts now) or not (a failed trylock, a
 * signal). */
static __always_inline void hold_acquired(bool taken)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct wait_key key = {};
	struct held h = {};
	struct acquiring *a;

	a = bpf_map_lookup_elem(&acquirings, &tid);
	if (!a)
		return;
	key.lock_addr = a->lock_addr;
	key.tid = tid;
	h.kernel_stack_id = a->kernel_stack_id;
	h.flags = a->flags;
	bpf_map_delete_elem(&acquirings, &tid);
	if (!taken)
		return;
	h.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&held, &key, &h, BPF_ANY);
}

/* The entry of a release by the thread that holds the lock. */
static __always_inline void hold_released(__u64 lock)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct wait_key key = {};
	struct klockstat_key total = {};
	struct held *h;
	__u64 delta;

	key.lock_addr = lock;
	key.tid = (__u32)pid_tgid;
	h = bpf_map_lookup_elem(&held, &key);
	if (!h)
		return;
	delta = bpf_ktime_get_ns() - h->start_ns;
	total.lock_addr = lock;
	total.kernel_stack_id = h->kernel_stack_id;
	total.flags = h->flags;
	bpf_map_delete_elem(&held, &key);
	if ((__s64)delta < 0)
		return;
	keep_thread(&total, pid_tgid);
	if (!add_time(&hold_totals, &total, delta))
		__sync_fetch_and_add(&holds_dropped, 1);
}

/* One function's programs in both tiers: fentry_FN and kprobe_FN at its
 * entry; fexit_FN and kretprobe_FN at its return (TAKEN: the lock was
 * taken, from the return value ret where there is one). */
#define HOLD_ENTRY(fn, what)                                                                       \
	SEC("fentry/" #fn)                                                                         \
	int BPF_PROG(fentry_##fn, void *lock)                                                      \
	{                                                                                          \
		what;                                                                              \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kprobe/" #fn)                                                                         \
	int BPF_KPROBE(kprobe_##fn, void *lock)                                                    \
	{                                                                                          \
		what;                                                                              \
		return 0;                                                                          \
	}

/* An acquisition that always takes the lock (returns void). */
#define HOLD_TAKE(fn, flags)                                                                       \
	HOLD_ENTRY(fn, hold_acquiring(ctx, (__u64)lock, flags))                                    \
	SEC("fexit/" #fn)                                                                          \
	int BPF_PROG(fexit_##fn, void *lock)                                                       \
	{                                                                                          \
		hold_acquired(true);                                                               \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kretprobe/" #fn)                                                                      \
	int BPF_KRETPROBE(kretprobe_##fn)                                                          \
	{                                                                                          \
		hold_acquired(true);                                                               \
		return 0;                                                                          \
	}

/* An acquisition that may fail: TAKEN tells from its int ret. */
#define HOLD_TRY(fn, flags, taken)                                                                 \
	HOLD_ENTRY(fn, hold_acquiring(ctx, (__u64)lock, flags))                                    \
	SEC("fexit/" #fn)                                                                          \
	int BPF_PROG(fexit_##fn, void *lock, int ret)                                              \
	{                                                                                          \
		hold_acquired(taken);                                                              \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kretprobe/" #fn)                                                                      \
	int BPF_KRETPROBE(kretprobe_##fn, int ret)                                                 \
	{                                                                                          \
		hold_acquired(taken);                                                              \
		return 0;                                                                          \
	}

#define HOLD_RELEASE(fn) HOLD_ENTRY(fn, hold_released((__u64)lock))

KLOCKSTAT_HOLD_FUNCTIONS(HOLD_TAKE, HOLD_TRY, HOLD_RELEASE)
