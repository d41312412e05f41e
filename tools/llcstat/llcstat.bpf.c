// SPDX-License-Identifier: GPL-2.0
/* llcstat: last-level cache references and misses. Two hardware counters
 * per CPU (PERF_COUNT_HW_CACHE_REFERENCES and PERF_COUNT_HW_CACHE_MISSES)
 * run a program each time they have counted a sample period's worth; it
 * adds the period to the entry of the task on the CPU then, and its CPU. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "maps.bpf.h"
#include "llcstat/llcstat.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_thread = false; /* --per-thread: the thread in the key */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LLCSTAT_MAX_KEYS);
	__type(key, struct llcstat_key);
	__type(value, struct llcstat_value);
} counts SEC(".maps");

/* Samples the table had no room for. */
__u64 samples_dropped = 0;

static __always_inline void sampled(struct bpf_perf_event_data *ctx, bool miss)
{
	static const struct llcstat_value zero = {};
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct llcstat_key key = {};
	struct llcstat_value *value;

	if (current_filtered_out())
		return;
	key.pid = pid_tgid >> 32;
	key.tid = per_thread ? (__u32)pid_tgid : 0;
	key.cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	value = map_lookup_or_insert(&counts, &key, &zero);
	if (!value) {
		__sync_fetch_and_add(&samples_dropped, 1);
		return;
	}
	if (miss)
		__sync_fetch_and_add(&value->misses, ctx->sample_period);
	else
		__sync_fetch_and_add(&value->references, ctx->sample_period);
}

SEC("perf_event")
int on_reference(struct bpf_perf_event_data *ctx)
{
	sampled(ctx, false);
	return 0;
}

SEC("perf_event")
int on_miss(struct bpf_perf_event_data *ctx)
{
	sampled(ctx, true);
	return 0;
}
