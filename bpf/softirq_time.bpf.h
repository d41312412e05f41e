/* Time spent in softirq handlers, for the tools that measure it (softirqs,
 * triage). A softirq never interrupts another on its CPU: one start slot
 * per CPU suffices, and an exit is paired with the entry its CPU saw last.
 * The programs differ by tool (softirqs --slower needs the raise and the
 * context), so this header gives only the slot. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct softirq_start {
	__u64 ts;      /* 0: no entry seen on this CPU since the last exit */
	__u64 wait_ns; /* softirqs --slower: raise to entry */
	__u32 vec;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct softirq_start);
} softirq_starts SEC(".maps");

/* At softirq_entry: the CPU's slot, stamped. */
static __always_inline struct softirq_start *softirq_entered(__u32 vec, __u64 now)
{
	__u32 zero = 0;
	struct softirq_start *s = bpf_map_lookup_elem(&softirq_starts, &zero);

	if (!s)
		return 0;
	s->wait_ns = 0;
	s->vec = vec;
	s->ts = now;
	return s;
}

/* At softirq_exit: the CPU's slot, with how long the run took in *ns, or
 * 0 for an exit whose entry came before the attach. */
static __always_inline struct softirq_start *softirq_exited(__u32 vec, __u64 now, __u64 *ns)
{
	__u32 zero = 0;
	struct softirq_start *s = bpf_map_lookup_elem(&softirq_starts, &zero);

	if (!s || !s->ts || s->vec != vec)
		return 0;
	*ns = now - s->ts;
	s->ts = 0;
	return s;
}
