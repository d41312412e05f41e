/* The kernel half of the event stream (common/event_stream.h): one map,
 * "events", that the loader makes a ring buffer where the kernel has one and
 * a perf event array otherwise; a per-CPU count of events that could not be
 * handed over; and batched wake-ups. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* resized by the loader */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} events_lost SEC(".maps");

const volatile bool events_use_ringbuf = true;
/* Wake the consumer only once this many bytes wait; 0 wakes on every event.
 * The consumer polls on a short period anyway, so nothing waits long. */
const volatile __u64 events_wakeup_bytes = 0;
/* When an event last woke the consumer with less than a batch pending. */
__u64 events_timed_wakeup_ns = 0;
#define EVENTS_WAKEUP_GAP_NS (10ULL * 1000 * 1000)

static __always_inline void events_count_lost(void)
{
	__u32 zero = 0;
	__u64 *lost = bpf_map_lookup_elem(&events_lost, &zero);

	/* Atomic although the slot is per-CPU: a program in interrupt context
	 * (a block completion, a TCP timer) can interrupt another one on the
	 * same CPU in the middle of its increment, and a plain one would then
	 * drop a count. */
	if (lost)
		__sync_fetch_and_add(lost, 1);
}

/* Batched wake-ups: one when a batch is pending, and otherwise at most one
 * every 10 ms, so an event on a quiet system shows at once instead of at the
 * consumer's next poll while a busy one is still read in batches (at most
 * 100 wake-ups a second). A race between CPUs on the timestamp costs at most
 * an extra wake-up. */
static __always_inline __u64 events_wakeup_flags(void)
{
	__u64 now;

	if (!events_wakeup_bytes)
		return 0;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= events_wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	now = bpf_ktime_get_ns();
	if (now - events_timed_wakeup_ns < EVENTS_WAKEUP_GAP_NS)
		return BPF_RB_NO_WAKEUP;
	events_timed_wakeup_ns = now;
	return BPF_RB_FORCE_WAKEUP;
}

/* Hands size bytes at data to user space; counts a loss when the buffer is
 * full. size must be provably bounded for the verifier. */
static __always_inline long events_output(void *ctx, void *data, __u64 size)
{
	long err;

	if (events_use_ringbuf)
		err = bpf_ringbuf_output(&events, data, size, events_wakeup_flags());
	else
		err = bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, data, size);
	if (err)
		events_count_lost();
	return err;
}

/* Hands the first size bytes of an event of max bytes: its fixed part and
 * the used part of its tail (a path). The compiler may prove size <= max
 * and drop a plain check that the verifier still needs to see: barrier_var
 * keeps it. */
static __always_inline long events_output_prefix(void *ctx, void *data, __u64 size, __u64 max)
{
	barrier_var(size);
	if (size > max)
		size = max;
	return events_output(ctx, data, size);
}

/* A per-CPU scratch area for events too large for the 512-byte stack. */
#define EVENT_SCRATCH(value_type, name)                                                            \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                           \
		__uint(max_entries, 1);                                                            \
		__type(key, __u32);                                                                \
		__type(value, value_type);                                                         \
	} name SEC(".maps")

static __always_inline void *scratch_get(void *map)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(map, &zero);
}
