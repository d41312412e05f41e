// SPDX-License-Identifier: GPL-2.0
/* wakeuptime: time threads spend blocked, summed by the thread that woke
 * them and where it was when it did (its user and kernel stacks).
 *
 * A traced thread is stamped when it blocks (bpf/wakeups.bpf.h); at its
 * wake-up current is the waker, whose stacks and name key the time from
 * the stamp to now. The time so ends at the wake-up, before any wait in
 * the run queue, as in the classic tool. */
#include "maps.bpf.h"
#include "wakeups.bpf.h"
#include "wakeuptime/wakeuptime.h"

char LICENSE[] SEC("license") = "GPL";

/* TID -> when it blocked. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WAKEUPS_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct wakeuptime_start);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WAKEUPS_MAX_KEYS);
	__type(key, struct wakeuptime_key);
	__type(value, struct wakeups_value);
} totals SEC(".maps");

static __always_inline void wakeups_blocked(void *ctx, __u32 tid, bool kthread)
{
	struct wakeuptime_start stamp = {};

	stamp.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&stamp.comm, sizeof(stamp.comm));
	stamp.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&start, &tid, &stamp, BPF_ANY))
		__sync_fetch_and_add(&dropped[WAKEUPS_THREADS_DROPPED], 1);
}

static __always_inline void wakeups_waking(void *ctx, __u32 tid)
{
	static const struct wakeups_value zero = {};
	struct wakeuptime_start *stamp;
	struct wakeups_value *value;
	struct wakeuptime_key key = {};
	__u64 delta;

	stamp = bpf_map_lookup_elem(&start, &tid);
	if (!stamp)
		return;
	delta = bpf_ktime_get_ns() - stamp->start_ns;
	key.target_pid = stamp->pid;
	key.target_tid = tid;
	__builtin_memcpy(key.target_comm, stamp->comm, sizeof(key.target_comm));
	bpf_map_delete_elem(&start, &tid);
	if (!block_selected(delta))
		return;
	current_stacks(ctx, &key.waker, current_is_kthread());

	value = map_lookup_or_insert(&totals, &key, &zero);
	if (!value) {
		__sync_fetch_and_add(&dropped[WAKEUPS_KEYS_DROPPED], 1);
		return;
	}
	__sync_fetch_and_add(&value->total_ns, delta);
	__sync_fetch_and_add(&value->count, 1);
}

/* The time ends at the wake-up: nothing to do when the thread runs again. */
static __always_inline void wakeups_switch_in(__u32 tid) {}
