// SPDX-License-Identifier: GPL-2.0
/* writeback: one event per pass of the flusher's writeback loop, with the
 * device, the reason, the pages written and how long the pass took.
 *
 * wb_writeback() fires writeback_start, writes what it may, and fires
 * writeback_written, in the same thread each time; the work's nr_pages is
 * its budget, which the pass lowers by what it wrote. The start is kept per
 * thread until its written. Every tier gives the same fields: the BTF and
 * raw tracepoints read them from (wb, work) the way the tracepoint does,
 * the tracefs one from the record. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "writeback/writeback.h"

char LICENSE[] SEC("license") = "GPL";

struct pass_start {
	__u64 ts_ns;
	__s64 nr_pages;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024); /* flusher threads at once */
	__type(key, __u32);
	__type(value, struct pass_start);
} starts SEC(".maps");

static __always_inline void on_start(__s64 nr_pages)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pass_start s = { .ts_ns = bpf_ktime_get_ns(), .nr_pages = nr_pages };

	bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
}

/* Fills the pass's times and pages; false when its start was not seen. */
static __always_inline bool on_written(struct writeback_event *e, __s64 nr_pages)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct pass_start *s = bpf_map_lookup_elem(&starts, &tid);

	if (!s)
		return false;
	e->ts_ns = bpf_ktime_get_ns();
	e->lat_ns = e->ts_ns - s->ts_ns;
	e->pages = s->nr_pages - nr_pages;
	e->pid = pid_tgid >> 32;
	bpf_map_delete_elem(&starts, &tid);
	return true;
}

/* Tiers 1 and 2: the tracepoint's arguments, (wb, work). */

static __always_inline void read_bdi_name(char *dst, struct bdi_writeback *wb)
{
	struct backing_dev_info *bdi = BPF_CORE_READ(wb, bdi);

	/* bdi_dev_name(): the name while the device is registered */
	if (BPF_CORE_READ(bdi, dev))
		bpf_probe_read_kernel_str(dst, WRITEBACK_NAME_LEN, &bdi->dev_name);
	else
		__builtin_memcpy(dst, "(unknown)", 10);
}

static __always_inline int typed_start(struct wb_writeback_work *work)
{
	on_start(BPF_CORE_READ(work, nr_pages));
	return 0;
}

static __always_inline int typed_written(void *ctx, struct bdi_writeback *wb,
					 struct wb_writeback_work *work)
{
	struct writeback_event e = {};
	struct super_block *sb = BPF_CORE_READ(work, sb);

	if (!on_written(&e, BPF_CORE_READ(work, nr_pages)))
		return 0;
	e.sb_dev = sb ? BPF_CORE_READ(sb, s_dev) : 0;
	e.reason = BPF_CORE_READ(work, reason);
	e.sync_mode = BPF_CORE_READ(work, sync_mode);
	read_bdi_name(e.bdi, wb);
	events_output(ctx, &e, sizeof(e));
	return 0;
}

SEC("tp_btf/writeback_start")
int BPF_PROG(btf_start, struct bdi_writeback *wb, struct wb_writeback_work *work)
{
	return typed_start(work);
}

SEC("tp_btf/writeback_written")
int BPF_PROG(btf_written, struct bdi_writeback *wb, struct wb_writeback_work *work)
{
	return typed_written(ctx, wb, work);
}

SEC("raw_tp/writeback_start")
int BPF_PROG(raw_start, struct bdi_writeback *wb, struct wb_writeback_work *work)
{
	return typed_start(work);
}

SEC("raw_tp/writeback_written")
int BPF_PROG(raw_written, struct bdi_writeback *wb, struct wb_writeback_work *work)
{
	return typed_written(ctx, wb, work);
}

/* Tier 3: the tracefs tracepoints' records. */

SEC("tracepoint/writeback/writeback_start")
int tp_start(struct trace_event_raw_writeback_work_class *args)
{
	on_start(args->nr_pages);
	return 0;
}

SEC("tracepoint/writeback/writeback_written")
int tp_written(struct trace_event_raw_writeback_work_class *args)
{
	struct writeback_event e = {};

	if (!on_written(&e, args->nr_pages))
		return 0;
	e.sb_dev = args->sb_dev;
	e.reason = args->reason;
	e.sync_mode = args->sync_mode;
	bpf_probe_read_kernel_str(e.bdi, sizeof(e.bdi), args->name);
	events_output(args, &e, sizeof(e));
	return 0;
}
