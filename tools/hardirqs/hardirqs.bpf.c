// SPDX-License-Identifier: GPL-2.0
/* hardirqs: the time each hard IRQ handler runs, from irq_handler_entry to
 * irq_handler_exit, summed (and with --distributed as log2 histograms) per
 * IRQ number and handler name.
 *
 * Handlers run with interrupts off, so on one CPU an entry is followed by
 * its own exit before any other entry: one start slot per CPU suffices.
 * The entry keeps the key too, since the tracefs tier's exit record has no
 * name. Nothing here filters by task: an interrupt runs in whatever task
 * happened to be on the CPU. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "log2.bpf.h"
#include "hardirqs/hardirqs.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool distributed = false;
const volatile __u64 unit_ns = 1000; /* histogram unit: 1 ns, 1 us or 1 ms */

struct start {
	__u64 ts; /* 0: no entry seen on this CPU since the last exit */
	struct hardirqs_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HARDIRQS_MAX_KEYS);
	__type(key, struct hardirqs_key);
	__type(value, struct hardirqs_value);
} handlers SEC(".maps");

static __always_inline struct start *this_cpu_start(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&starts, &zero);
}

/* The handler's name is copied from the kernel (action) or from the
 * tracefs record (tracefs_name). */
static __always_inline void on_entry(int irq, struct irqaction *action, const char *tracefs_name)
{
	struct start *s = this_cpu_start();

	if (!s)
		return;
	s->key.irq = irq;
	if (action)
		bpf_probe_read_kernel_str(s->key.name, sizeof(s->key.name),
					  BPF_CORE_READ(action, name));
	else
		bpf_probe_read_kernel_str(s->key.name, sizeof(s->key.name), tracefs_name);
	s->ts = bpf_ktime_get_ns();
}

static __always_inline void on_exit(int irq)
{
	static const struct hardirqs_value zero = {};
	struct start *s = this_cpu_start();
	struct hardirqs_value *value;
	__u64 delta;

	/* An exit whose entry came before the attach, or another IRQ's. */
	if (!s || !s->ts || s->key.irq != irq)
		return;
	delta = bpf_ktime_get_ns() - s->ts;
	s->ts = 0;
	value = bpf_map_lookup_elem(&handlers, &s->key);
	if (!value) {
		bpf_map_update_elem(&handlers, &s->key, &zero, BPF_NOEXIST);
		value = bpf_map_lookup_elem(&handlers, &s->key);
		if (!value)
			return;
	}
	__sync_fetch_and_add(&value->count, 1);
	__sync_fetch_and_add(&value->total_ns, delta);
	if (distributed)
		log2_hist_add(value->slots, HARDIRQS_SLOTS, delta / unit_ns);
}

/* Tier 1: BTF-typed tracepoints. */

SEC("tp_btf/irq_handler_entry")
int BPF_PROG(btf_entry, int irq, struct irqaction *action)
{
	on_entry(irq, action, 0);
	return 0;
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(btf_exit, int irq)
{
	on_exit(irq);
	return 0;
}

/* Tier 2: raw tracepoints (the same arguments, untyped). */

SEC("raw_tp/irq_handler_entry")
int raw_entry(struct bpf_raw_tracepoint_args *ctx)
{
	on_entry((int)ctx->args[0], (struct irqaction *)ctx->args[1], 0);
	return 0;
}

SEC("raw_tp/irq_handler_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	on_exit((int)ctx->args[0]);
	return 0;
}

/* Tier 3: tracefs tracepoints; the name is a __data_loc string in the record. */

SEC("tracepoint/irq/irq_handler_entry")
int tp_entry(struct trace_event_raw_irq_handler_entry *ctx)
{
	on_entry(ctx->irq, 0, (const char *)ctx + (ctx->__data_loc_name & 0xffff));
	return 0;
}

SEC("tracepoint/irq/irq_handler_exit")
int tp_exit(struct trace_event_raw_irq_handler_exit *ctx)
{
	on_exit(ctx->irq);
	return 0;
}
