// SPDX-License-Identifier: GPL-2.0
/* numamove: page migrations and the time they take, counted from
 * migrate:mm_migrate_pages_start (the migration's reason, its start) to
 * migrate:mm_migrate_pages (pages moved and failed) in the same thread.
 * By default only NUMA balancing's migrations (MR_NUMA_MISPLACED: a task
 * touched a page on a node other than its own); all_reasons counts every
 * migration (compaction, move_pages(2), memory hotplug...). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "numamove/numamove.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool all_reasons = false; /* set by the loader (-a) */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct numamove_counts);
} counts SEC(".maps");

/* A migration under way, by thread: its start. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} starts SEC(".maps");

static __always_inline int on_start(int reason)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ts;

	if (!all_reasons && reason != bpf_core_enum_value(enum migrate_reason, MR_NUMA_MISPLACED))
		return 0;
	if (current_filtered_out())
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&starts, &tid, &ts, BPF_ANY);
	return 0;
}

/* The reason is the start's: mm_migrate_pages's arguments before it differ
 * between kernels (6.16 added large_folio_split). */
static __always_inline int on_end(unsigned long succeeded, unsigned long failed)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct numamove_counts *c;
	__u32 zero = 0;
	__u64 *start;
	__u64 ns;

	start = bpf_map_lookup_elem(&starts, &tid);
	if (!start)
		return 0;
	ns = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&starts, &tid);
	c = bpf_map_lookup_elem(&counts, &zero);
	if (!c)
		return 0;
	/* Per-CPU, but a preempted program can share the slot with another
	 * run on the same CPU, so add atomically. */
	__sync_fetch_and_add(&c->migrations, 1);
	__sync_fetch_and_add(&c->pages, succeeded);
	__sync_fetch_and_add(&c->failed, failed);
	__sync_fetch_and_add(&c->ns, ns);
	return 0;
}

/* Tier 1: BTF tracepoints. */

SEC("tp_btf/mm_migrate_pages_start")
int BPF_PROG(btf_start, enum migrate_mode mode, int reason) { return on_start(reason); }

SEC("tp_btf/mm_migrate_pages")
int BPF_PROG(btf_end, unsigned long succeeded, unsigned long failed)
{
	return on_end(succeeded, failed);
}

/* Tier 2: raw tracepoints, the same arguments without BTF types. */

SEC("raw_tp/mm_migrate_pages_start")
int BPF_PROG(raw_start, enum migrate_mode mode, int reason) { return on_start(reason); }

SEC("raw_tp/mm_migrate_pages")
int BPF_PROG(raw_end, unsigned long succeeded, unsigned long failed)
{
	return on_end(succeeded, failed);
}

/* Tier 3: the tracefs tracepoints. */

SEC("tracepoint/migrate/mm_migrate_pages_start")
int tp_start(struct trace_event_raw_mm_migrate_pages_start *ctx) { return on_start(ctx->reason); }

SEC("tracepoint/migrate/mm_migrate_pages")
int tp_end(struct trace_event_raw_mm_migrate_pages *ctx)
{
	return on_end(ctx->succeeded, ctx->failed);
}
