// SPDX-License-Identifier: GPL-2.0
/* hardirqs: the time each hard IRQ handler runs, from irq_handler_entry to
 * irq_handler_exit, summed (and with --distributed as log2 histograms) per
 * IRQ number and handler name (the programs: bpf/hardirq_time.bpf.h).
 * Nothing here filters by task: an interrupt runs in whatever task
 * happened to be on the CPU. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hardirq_time.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "hardirqs/hardirqs.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool distributed = false;
const volatile __u64 unit_ns = 1000; /* histogram unit: 1 ns, 1 us or 1 ms */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HARDIRQS_MAX_KEYS);
	__type(key, struct hardirq_key);
	__type(value, struct hardirqs_value);
} handlers SEC(".maps");

static __always_inline void hardirq_ran(const struct hardirq_key *key, __u64 ns)
{
	static const struct hardirqs_value zero = {};
	struct hardirqs_value *value = map_lookup_or_insert(&handlers, key, &zero);

	if (!value)
		return;
	__sync_fetch_and_add(&value->count, 1);
	__sync_fetch_and_add(&value->total_ns, ns);
	if (distributed)
		log2_hist_add(value->slots, HARDIRQS_SLOTS, ns / unit_ns);
}

HARDIRQ_PROGRAMS()
