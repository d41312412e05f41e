// SPDX-License-Identifier: GPL-2.0
/* softirqs: the time each softirq vector's handler runs, from softirq_entry
 * to softirq_exit, summed (and with --distributed as log2 histograms) per
 * vector; with --slower, each run that took (or waited from its raise)
 * at least a threshold, as an event.
 *
 * A vector raised on a CPU runs on that CPU: per-CPU slots hold the start
 * of the run (bpf/softirq_time.bpf.h) and each vector's first raise since
 * its last run. A hard interrupt during a softirq counts in the
 * softirq's time, as in every tool that times from entry to exit. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "softirq_time.bpf.h"
#include "log2.bpf.h"
#include "softirqs/softirqs.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool distributed = false;
const volatile __u64 unit_ns = 1000;   /* histogram unit: 1 ns, 1 us or 1 ms */
const volatile bool slower = false;    /* --slower: events instead of the summary */
const volatile __u64 threshold_ns = 0; /* --slower's threshold */

/* --slower: per CPU, when each vector was first raised since it last ran. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOFTIRQS_VECTORS);
	__type(key, __u32);
	__type(value, __u64);
} raised SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOFTIRQS_VECTORS);
	__type(key, __u32);
	__type(value, struct softirqs_value);
} vectors SEC(".maps");

static __always_inline void on_raise(__u32 vec)
{
	__u64 *stamp = bpf_map_lookup_elem(&raised, &vec);

	if (stamp && !*stamp)
		*stamp = bpf_ktime_get_ns();
}

static __always_inline void on_entry(__u32 vec)
{
	__u64 now = bpf_ktime_get_ns(), *stamp;
	struct softirq_start *s = softirq_entered(vec, now);

	if (!s || !slower)
		return;
	stamp = bpf_map_lookup_elem(&raised, &vec);
	if (stamp && *stamp) {
		s->wait_ns = now - *stamp;
		*stamp = 0;
	}
}

static __always_inline void report(void *ctx, struct softirq_start *s, __u64 now, __u64 run_ns)
{
	struct softirqs_event e = {};
	__u64 id = bpf_get_current_pid_tgid();

	e.ts_ns = now;
	e.run_ns = run_ns;
	e.wait_ns = s->wait_ns;
	e.pid = id >> 32;
	e.tid = (__u32)id;
	e.vec = s->vec;
	e.cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	events_output(ctx, &e, sizeof(e));
}

static __always_inline void on_exit(void *ctx, __u32 vec)
{
	struct softirqs_value *value;
	struct softirq_start *s;
	__u64 now = bpf_ktime_get_ns(), delta = 0;

	s = softirq_exited(vec, now, &delta);
	if (!s)
		return;
	if (slower) {
		if (delta >= threshold_ns || s->wait_ns >= threshold_ns)
			report(ctx, s, now, delta);
		return;
	}
	/* Per CPU, and softirqs do not nest: plain adds suffice. */
	value = bpf_map_lookup_elem(&vectors, &vec);
	if (!value)
		return;
	value->count++;
	value->total_ns += delta;
	if (distributed) {
		__u32 slot = log2_u64(delta / unit_ns);

		if (slot >= SOFTIRQS_SLOTS)
			slot = SOFTIRQS_SLOTS - 1;
		value->slots[slot]++;
	}
}

/* Tier 1: BTF-typed tracepoints. */

SEC("tp_btf/softirq_raise")
int BPF_PROG(btf_raise, unsigned int vec)
{
	on_raise(vec);
	return 0;
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(btf_entry, unsigned int vec)
{
	on_entry(vec);
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(btf_exit, unsigned int vec)
{
	on_exit(ctx, vec);
	return 0;
}

/* Tier 2: raw tracepoints (the same argument, untyped). */

SEC("raw_tp/softirq_raise")
int raw_raise(struct bpf_raw_tracepoint_args *ctx)
{
	on_raise((__u32)ctx->args[0]);
	return 0;
}

SEC("raw_tp/softirq_entry")
int raw_entry(struct bpf_raw_tracepoint_args *ctx)
{
	on_entry((__u32)ctx->args[0]);
	return 0;
}

SEC("raw_tp/softirq_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	on_exit(ctx, (__u32)ctx->args[0]);
	return 0;
}

/* Tier 3: tracefs tracepoints. */

SEC("tracepoint/irq/softirq_raise")
int tp_raise(struct trace_event_raw_softirq *ctx)
{
	on_raise(ctx->vec);
	return 0;
}

SEC("tracepoint/irq/softirq_entry")
int tp_entry(struct trace_event_raw_softirq *ctx)
{
	on_entry(ctx->vec);
	return 0;
}

SEC("tracepoint/irq/softirq_exit")
int tp_exit(struct trace_event_raw_softirq *ctx)
{
	on_exit(ctx, ctx->vec);
	return 0;
}
