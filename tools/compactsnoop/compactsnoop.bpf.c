// SPDX-License-Identifier: GPL-2.0
/* compactsnoop: every compaction of a zone, from
 * compaction:mm_compaction_begin to mm_compaction_end in the same thread,
 * with the zone, the order compacted for, the migration mode, the latency
 * and the result. Both tracepoints pass the compact_control (the tracefs
 * records have only PFNs), so only the BTF and raw tiers are here. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "compactsnoop/compactsnoop.h"

char LICENSE[] SEC("license") = "GPL";

/* The compaction under way, by thread: its event, filled at the begin. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct compactsnoop_event);
} starts SEC(".maps");

static __always_inline __u32 mode_of(struct compact_control *cc)
{
	unsigned int mode = BPF_CORE_READ(cc, mode);

	if (mode == bpf_core_enum_value(enum migrate_mode, MIGRATE_ASYNC))
		return COMPACTSNOOP_ASYNC;
	if (mode == bpf_core_enum_value(enum migrate_mode, MIGRATE_SYNC_LIGHT))
		return COMPACTSNOOP_SYNC_LIGHT;
	if (mode == bpf_core_enum_value(enum migrate_mode, MIGRATE_SYNC))
		return COMPACTSNOOP_SYNC;
	return COMPACTSNOOP_MODE_UNKNOWN;
}

static __always_inline __u32 status_of(int status)
{
#define STATUS(name)                                                                               \
	if (bpf_core_enum_value_exists(enum compact_result, COMPACT_##name) &&                     \
	    status == bpf_core_enum_value(enum compact_result, COMPACT_##name))                    \
		return COMPACTSNOOP_##name;
	STATUS(NOT_SUITABLE_ZONE)
	STATUS(SKIPPED)
	STATUS(DEFERRED)
	STATUS(NO_SUITABLE_PAGE)
	STATUS(CONTINUE)
	STATUS(COMPLETE)
	STATUS(PARTIAL_SKIPPED)
	STATUS(CONTENDED)
	STATUS(SUCCESS)
#undef STATUS
	return COMPACTSNOOP_STATUS_UNKNOWN;
}

static __always_inline int on_begin(struct compact_control *cc)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	int free_item = bpf_core_enum_value(enum zone_stat_item, NR_FREE_PAGES);
	struct compactsnoop_event ev = {}, *e = &ev;
	struct zone *zone;
	const char *name;
	long free = 0;

	if (current_filtered_out())
		return 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->order = BPF_CORE_READ(cc, order);
	e->mode = mode_of(cc);
	e->node = -1;
	e->free_pages = e->min_pages = e->low_pages = e->high_pages = COMPACTSNOOP_UNKNOWN;
	zone = BPF_CORE_READ(cc, zone);
	if (zone) {
		if (bpf_core_field_exists(struct zone, node))
			e->node = BPF_CORE_READ(zone, node);
		else
			e->node = BPF_CORE_READ(zone, zone_pgdat, node_id);
		name = BPF_CORE_READ(zone, name);
		if (name)
			bpf_probe_read_kernel_str(e->zone, sizeof(e->zone), name);
		if (bpf_core_field_exists(struct zone, _watermark)) {
			e->min_pages = BPF_CORE_READ(zone, _watermark[WMARK_MIN]);
			e->low_pages = BPF_CORE_READ(zone, _watermark[WMARK_LOW]);
			e->high_pages = BPF_CORE_READ(zone, _watermark[WMARK_HIGH]);
		}
		if (bpf_core_read(&free, sizeof(free), &zone->vm_stat[free_item].counter) == 0)
			e->free_pages = free < 0 ? 0 : free;
	}
	bpf_map_update_elem(&starts, &tid, e, BPF_ANY);
	return 0;
}

static __always_inline int on_end(void *ctx, int status)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct compactsnoop_event *e = bpf_map_lookup_elem(&starts, &tid);
	__u64 now;

	if (!e)
		return 0;
	now = bpf_ktime_get_ns();
	e->lat_ns = now - e->ts_ns;
	e->ts_ns = now;
	e->status = status_of(status);
	events_output(ctx, e, sizeof(*e));
	bpf_map_delete_elem(&starts, &tid);
	return 0;
}

/* Tier 1: BTF tracepoints. */

SEC("tp_btf/mm_compaction_begin")
int BPF_PROG(btf_begin, struct compact_control *cc) { return on_begin(cc); }

SEC("tp_btf/mm_compaction_end")
int BPF_PROG(btf_end, struct compact_control *cc, unsigned long zone_start, unsigned long zone_end,
	     bool sync, int status)
{
	return on_end(ctx, status);
}

/* Tier 2: raw tracepoints, the same arguments without BTF types. */

SEC("raw_tp/mm_compaction_begin")
int BPF_PROG(raw_begin, struct compact_control *cc) { return on_begin(cc); }

SEC("raw_tp/mm_compaction_end")
int BPF_PROG(raw_end, struct compact_control *cc, unsigned long zone_start, unsigned long zone_end,
	     bool sync, int status)
{
	return on_end(ctx, status);
}
