// SPDX-License-Identifier: GPL-2.0
/* javagc: garbage collections of HotSpot JVMs, from the USDT probes of
 * libjvm.so (provider hotspot). gc__begin saves the time per thread;
 * mem__pool__gc__begin and mem__pool__gc__end, which fire once per memory
 * pool inside a collection, add the pools' used bytes and name the
 * collector; gc__end sends one event. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "javagc/javagc.h"

char LICENSE[] SEC("license") = "GPL";

/* --minimum: collections shorter than this are not sent. */
const volatile __u64 min_duration_ns = 0;

struct pending_gc {
	__u64 start_ns;
	__u64 used_before;
	__u64 used_after;
	__u32 full;
	__u32 pools;
	char manager[JAVAGC_MANAGER_LEN];
};

/* LRU: a JVM killed in the middle of a collection leaves its entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct pending_gc);
} pending SEC(".maps");

EVENT_SCRATCH(struct javagc_event, scratch);

/* The targets (LIBJVM:hotspot:PROBE) come from the loader. */

SEC("usdt")
int gc_begin(struct pt_regs *ctx)
{
	struct pending_gc gc = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	long full = 0;

	if (current_filtered_out())
		return 0;
	bpf_usdt_arg(ctx, 0, &full);
	gc.full = full != 0;
	gc.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&pending, &tid, &gc, BPF_ANY);
	return 0;
}

/* mem__pool__gc__begin(manager, manager_len, pool, pool_len, initial,
 * used, committed, max), once per pool. */
SEC("usdt")
int pool_begin(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_gc *gc = bpf_map_lookup_elem(&pending, &tid);
	long manager = 0, used = 0;

	if (!gc)
		return 0;
	bpf_usdt_arg(ctx, 5, &used);
	gc->used_before += used;
	if (!gc->manager[0] && bpf_usdt_arg(ctx, 0, &manager) == 0 && manager)
		bpf_probe_read_user_str(gc->manager, sizeof(gc->manager), (const void *)manager);
	return 0;
}

SEC("usdt")
int pool_end(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_gc *gc = bpf_map_lookup_elem(&pending, &tid);
	long used = 0;

	if (!gc)
		return 0;
	bpf_usdt_arg(ctx, 5, &used);
	gc->used_after += used;
	gc->pools++;
	return 0;
}

SEC("usdt")
int gc_end(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct task_struct *task;
	struct javagc_event *e;
	struct pending_gc *gc;
	__u64 now;

	gc = bpf_map_lookup_elem(&pending, &tid);
	if (!gc)
		return 0;
	now = bpf_ktime_get_ns();
	if (now - gc->start_ns < min_duration_ns)
		goto done;
	e = scratch_get(&scratch);
	if (!e)
		goto done;
	e->ts_ns = now;
	e->duration_ns = now - gc->start_ns;
	e->used_before = gc->used_before;
	e->used_after = gc->used_after;
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->full = gc->full;
	e->pools = gc->pools;
	task = (struct task_struct *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
	__builtin_memcpy(e->manager, gc->manager, sizeof(e->manager));
	events_output(ctx, e, sizeof(*e));
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}
