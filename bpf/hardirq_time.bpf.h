/* Time spent in hard IRQ handlers, for the tools that measure it (hardirqs,
 * triage). A handler runs with interrupts off, so handlers do not nest on a
 * CPU: one start slot per CPU suffices, and an exit is paired with the
 * entry its CPU saw last.
 *
 * HARDIRQ_PROGRAMS() writes the entry and exit programs of the three tiers
 * (btf_hardirq_entry, raw_hardirq_exit, tp_...); the file that uses it
 * defines hardirq_ran(key, ns), which accounts one handler run. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "irq_handler_key.h"

struct hardirq_start {
	__u64 ts; /* 0: no entry seen on this CPU since the last exit */
	struct hardirq_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hardirq_start);
} hardirq_starts SEC(".maps");

/* The entry keeps the key, since the tracefs tier's exit record has no
 * name: copied from the kernel (action) or from that record (tracefs_name). */
static __always_inline void hardirq_entered(int irq, struct irqaction *action,
					    const char *tracefs_name)
{
	__u32 zero = 0;
	struct hardirq_start *s = bpf_map_lookup_elem(&hardirq_starts, &zero);

	if (!s)
		return;
	s->key.irq = irq;
	/* The slot held the CPU's previous handler: a shorter name read over
	 * it would keep that one's tail past its NUL, and the same handler
	 * would count under several keys. */
	__builtin_memset(s->key.name, 0, sizeof(s->key.name));
	if (action)
		bpf_probe_read_kernel_str(s->key.name, sizeof(s->key.name),
					  BPF_CORE_READ(action, name));
	else
		bpf_probe_read_kernel_str(s->key.name, sizeof(s->key.name), tracefs_name);
	s->ts = bpf_ktime_get_ns();
}

/* Defined by the file that uses HARDIRQ_PROGRAMS(). */
static __always_inline void hardirq_ran(const struct hardirq_key *key, __u64 ns);

static __always_inline void hardirq_exited(int irq)
{
	__u32 zero = 0;
	struct hardirq_start *s = bpf_map_lookup_elem(&hardirq_starts, &zero);
	__u64 ns;

	/* An exit whose entry came before the attach, or another IRQ's. */
	if (!s || !s->ts || s->key.irq != irq)
		return;
	ns = bpf_ktime_get_ns() - s->ts;
	s->ts = 0;
	hardirq_ran(&s->key, ns);
}

#define HARDIRQ_PROGRAMS()                                                                         \
	SEC("tp_btf/irq_handler_entry")                                                            \
	int BPF_PROG(btf_hardirq_entry, int irq, struct irqaction *action)                         \
	{                                                                                          \
		hardirq_entered(irq, action, 0);                                                   \
		return 0;                                                                          \
	}                                                                                          \
	SEC("tp_btf/irq_handler_exit")                                                             \
	int BPF_PROG(btf_hardirq_exit, int irq)                                                    \
	{                                                                                          \
		hardirq_exited(irq);                                                               \
		return 0;                                                                          \
	}                                                                                          \
	SEC("raw_tp/irq_handler_entry")                                                            \
	int raw_hardirq_entry(struct bpf_raw_tracepoint_args *ctx)                                 \
	{                                                                                          \
		hardirq_entered((int)ctx->args[0], (struct irqaction *)ctx->args[1], 0);           \
		return 0;                                                                          \
	}                                                                                          \
	SEC("raw_tp/irq_handler_exit")                                                             \
	int raw_hardirq_exit(struct bpf_raw_tracepoint_args *ctx)                                  \
	{                                                                                          \
		hardirq_exited((int)ctx->args[0]);                                                 \
		return 0;                                                                          \
	}                                                                                          \
	/* tracefs: the name is a __data_loc string in the entry's record */                       \
	SEC("tracepoint/irq/irq_handler_entry")                                                    \
	int tp_hardirq_entry(struct trace_event_raw_irq_handler_entry *ctx)                        \
	{                                                                                          \
		hardirq_entered(ctx->irq, 0, (const char *)ctx + (ctx->__data_loc_name & 0xffff)); \
		return 0;                                                                          \
	}                                                                                          \
	SEC("tracepoint/irq/irq_handler_exit")                                                     \
	int tp_hardirq_exit(struct trace_event_raw_irq_handler_exit *ctx)                          \
	{                                                                                          \
		hardirq_exited(ctx->irq);                                                          \
		return 0;                                                                          \
	}
