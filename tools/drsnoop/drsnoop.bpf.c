// SPDX-License-Identifier: GPL-2.0
/* drsnoop: every reclaim a task runs itself, from its begin to its end:
 * direct reclaim (the host short of free memory) and memory cgroup reclaim
 * (a charge over memory.high or memory.max), with the time it took, the
 * pages it freed and the host's free memory at its end. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "cgroup_id.bpf.h"
#include "events.bpf.h"
#include "filters.bpf.h"
#include "drsnoop/drsnoop.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 page_shift = 12; /* set by the loader */

/* A reclaim under way, per thread and kind: a memory cgroup reclaim could
 * in principle allocate and so nest a direct one. */
struct reclaim_key {
	__u32 tid;
	__u32 kind;
};

struct reclaim_start {
	__u64 ts_ns;
	__u64 gfp_flags;
	__s32 order;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct reclaim_key);
	__type(value, struct reclaim_start);
} starts SEC(".maps");

static __always_inline int on_begin(__u32 kind, int order, __u64 gfp_flags)
{
	struct reclaim_key key = { .tid = (__u32)bpf_get_current_pid_tgid(), .kind = kind };
	struct reclaim_start start = { .gfp_flags = gfp_flags, .order = order };

	if (current_filtered_out())
		return 0;
	start.ts_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&starts, &key, &start, BPF_ANY);
	return 0;
}

/* The current task's memory cgroup, or NULL. */
static __always_inline struct mem_cgroup *current_memcg(void)
{
	int memory_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	struct cgroup_subsys_state *css = NULL;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id) || memory_id < 0 ||
	    memory_id >= CGROUP_SUBSYS_COUNT || !cset)
		return NULL;
	bpf_core_read(&css, sizeof(css), &cset->subsys[memory_id]);
	return (struct mem_cgroup *)css; /* css is its first member */
}

/* Zones a host can have in its fallback list that this counts: 16 nodes of
 * four zones. */
#define MAX_ZONES_COUNTED 64

/* The free memory: NR_FREE_PAGES summed over every zone. There is no global symbol
 * to read (vm_zone_stat is not in BTF or kallsyms on every kernel), so the
 * zones are reached from the task's memory cgroup: its per-node LRU names
 * node 0, whose fallback zone list holds every populated zone of every
 * node. */
static __always_inline __u64 free_kb(struct mem_cgroup *memcg)
{
	int free_pages = bpf_core_enum_value(enum zone_stat_item, NR_FREE_PAGES);
	struct mem_cgroup_per_node *node = NULL;
	struct pglist_data *pgdat;
	struct zonelist *zonelist;
	__u64 pages = 0;

	if (!memcg || !bpf_core_field_exists(struct lruvec, pgdat))
		return DRSNOOP_FREE_UNKNOWN;
	bpf_core_read(&node, sizeof(node), &memcg->nodeinfo[0]);
	pgdat = BPF_CORE_READ(node, lruvec.pgdat);
	if (!node || !pgdat)
		return DRSNOOP_FREE_UNKNOWN;
	zonelist = &pgdat->node_zonelists[0]; /* ZONELIST_FALLBACK */
	for (int i = 0; i < MAX_ZONES_COUNTED; i++) {
		struct zone *zone = BPF_CORE_READ(zonelist, _zonerefs[i].zone);
		long counter = 0;

		if (!zone)
			break;
		bpf_core_read(&counter, sizeof(counter), &zone->vm_stat[free_pages].counter);
		if (counter > 0)
			pages += counter;
	}
	return pages << (page_shift - 10);
}

static __always_inline int on_end(void *ctx, __u32 kind, unsigned long nr_reclaimed)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct reclaim_key key = { .tid = (__u32)pid_tgid, .kind = kind };
	struct drsnoop_event e = {};
	struct reclaim_start *start;
	struct mem_cgroup *memcg;

	start = bpf_map_lookup_elem(&starts, &key);
	if (!start)
		return 0;
	e.ts_ns = bpf_ktime_get_ns();
	e.lat_ns = e.ts_ns - start->ts_ns;
	e.gfp_flags = start->gfp_flags;
	e.order = start->order;
	bpf_map_delete_elem(&starts, &key);
	e.nr_reclaimed = nr_reclaimed;
	e.kind = kind;
	e.pid = pid_tgid >> 32;
	e.tid = (__u32)pid_tgid;
	e.uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	memcg = current_memcg();
	e.free_kb = free_kb(memcg);
	if (memcg)
		e.memcg_id = cgroup_node_id(BPF_CORE_READ(memcg, css.cgroup));
	events_output(ctx, &e, sizeof(e));
	return 0;
}

/* Tier 1: BTF tracepoints. */

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(btf_direct_begin, int order, gfp_t gfp_flags)
{
	return on_begin(DRSNOOP_DIRECT, order, gfp_flags);
}
SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(btf_direct_end, unsigned long nr_reclaimed)
{
	return on_end(ctx, DRSNOOP_DIRECT, nr_reclaimed);
}
SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(btf_memcg_begin, int order, gfp_t gfp_flags)
{
	return on_begin(DRSNOOP_MEMCG, order, gfp_flags);
}
SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(btf_memcg_end, unsigned long nr_reclaimed)
{
	return on_end(ctx, DRSNOOP_MEMCG, nr_reclaimed);
}

/* Tier 2: raw tracepoints, the same arguments without BTF types. */

SEC("raw_tp/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(raw_direct_begin, int order, gfp_t gfp_flags)
{
	return on_begin(DRSNOOP_DIRECT, order, gfp_flags);
}
SEC("raw_tp/mm_vmscan_direct_reclaim_end")
int BPF_PROG(raw_direct_end, unsigned long nr_reclaimed)
{
	return on_end(ctx, DRSNOOP_DIRECT, nr_reclaimed);
}
SEC("raw_tp/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(raw_memcg_begin, int order, gfp_t gfp_flags)
{
	return on_begin(DRSNOOP_MEMCG, order, gfp_flags);
}
SEC("raw_tp/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(raw_memcg_end, unsigned long nr_reclaimed)
{
	return on_end(ctx, DRSNOOP_MEMCG, nr_reclaimed);
}

/* Tier 3: the tracefs tracepoints. */

SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_begin")
int tp_direct_begin(struct trace_event_raw_mm_vmscan_direct_reclaim_begin_template *ctx)
{
	return on_begin(DRSNOOP_DIRECT, ctx->order, ctx->gfp_flags);
}
SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_end")
int tp_direct_end(struct trace_event_raw_mm_vmscan_direct_reclaim_end_template *ctx)
{
	return on_end(ctx, DRSNOOP_DIRECT, ctx->nr_reclaimed);
}
SEC("tracepoint/vmscan/mm_vmscan_memcg_reclaim_begin")
int tp_memcg_begin(struct trace_event_raw_mm_vmscan_direct_reclaim_begin_template *ctx)
{
	return on_begin(DRSNOOP_MEMCG, ctx->order, ctx->gfp_flags);
}
SEC("tracepoint/vmscan/mm_vmscan_memcg_reclaim_end")
int tp_memcg_end(struct trace_event_raw_mm_vmscan_direct_reclaim_end_template *ctx)
{
	return on_end(ctx, DRSNOOP_MEMCG, ctx->nr_reclaimed);
}
