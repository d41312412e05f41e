// SPDX-License-Identifier: GPL-2.0
/* offwaketime: time threads spend blocked off CPU, summed by where they
 * blocked (their stacks) joined with who woke them and from where (the
 * waker's stacks).
 *
 * A traced thread is stamped with its stacks when it blocks
 * (bpf/wakeups.bpf.h); at its wake-up current is the waker, whose stacks
 * and name are kept for it; when it runs again, the time since the stamp is
 * summed by both. The time so includes any wait in the run queue after the
 * wake-up, as offcputime's does. */
#include "maps.bpf.h"
#include "wakeups.bpf.h"
#include "offwaketime/offwaketime.h"

char LICENSE[] SEC("license") = "GPL";

/* TID -> when and where it blocked. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WAKEUPS_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct offwaketime_start);
} start SEC(".maps");

/* TID of a blocked thread -> who woke it, from where. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WAKEUPS_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct task_stacks);
} wakers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WAKEUPS_MAX_KEYS);
	__type(key, struct offwaketime_key);
	__type(value, struct wakeups_value);
} totals SEC(".maps");

static __always_inline void wakeups_blocked(void *ctx, __u32 tid, bool kthread)
{
	struct offwaketime_start stamp = {};

	current_stacks(ctx, &stamp.target, kthread);
	stamp.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&start, &tid, &stamp, BPF_ANY))
		__sync_fetch_and_add(&dropped[WAKEUPS_THREADS_DROPPED], 1);
}

static __always_inline void wakeups_waking(void *ctx, __u32 tid)
{
	struct task_stacks waker = {};

	if (!bpf_map_lookup_elem(&start, &tid)) /* not a traced thread that blocked */
		return;
	current_stacks(ctx, &waker, current_is_kthread());
	bpf_map_update_elem(&wakers, &tid, &waker, BPF_ANY);
}

static __always_inline void wakeups_switch_in(__u32 tid)
{
	static const struct wakeups_value zero = {};
	struct offwaketime_start *stamp;
	struct task_stacks *waker;
	struct wakeups_value *value;
	struct offwaketime_key key = {};
	__u64 delta;

	stamp = bpf_map_lookup_elem(&start, &tid);
	if (!stamp)
		return;
	delta = bpf_ktime_get_ns() - stamp->start_ns;
	key.target = stamp->target;
	bpf_map_delete_elem(&start, &tid);
	waker = bpf_map_lookup_elem(&wakers, &tid);
	if (waker) {
		key.waker = *waker;
		bpf_map_delete_elem(&wakers, &tid);
	} else {
		key.waker.user_stack_id = STACK_ID_NONE;
		key.waker.kernel_stack_id = STACK_ID_NONE;
	}
	if (!block_selected(delta))
		return;

	value = map_lookup_or_insert(&totals, &key, &zero);
	if (!value) {
		__sync_fetch_and_add(&dropped[WAKEUPS_KEYS_DROPPED], 1);
		return;
	}
	__sync_fetch_and_add(&value->total_ns, delta);
	__sync_fetch_and_add(&value->count, 1);
}
