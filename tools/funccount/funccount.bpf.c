// SPDX-License-Identifier: GPL-2.0
/* funccount: calls counted per probe. One program per kind of probe is
 * attached to every probe of a run, and tells them apart by the BPF cookie
 * the loader gave each attachment: the probe's number, the index of its
 * count in a per-CPU array (no lock, no hash). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "filters.bpf.h"
#include "funccount/funccount.h"

char LICENSE[] SEC("license") = "GPL";

/* Sized by the loader to the number of probes. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FUNCCOUNT_MAX_PROBES);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline int count_call(__u64 probe)
{
	__u32 key = (__u32)probe;
	__u64 *count;

	if (current_filtered_out())
		return 0;
	count = bpf_map_lookup_elem(&counts, &key);
	if (count)
		*count += 1;
	return 0;
}

/* The targets come from the loader (common/attach_plan.cpp attaches an
 * untargeted section to each point's target, with its cookie). */

SEC("uprobe")
int uprobe_count(struct pt_regs *ctx) { return count_call(bpf_get_attach_cookie(ctx)); }

SEC("kprobe")
int kprobe_count(struct pt_regs *ctx) { return count_call(bpf_get_attach_cookie(ctx)); }

SEC("tracepoint")
int tp_count(void *ctx) { return count_call(bpf_get_attach_cookie(ctx)); }

SEC("usdt")
int usdt_count(struct pt_regs *ctx) { return count_call(bpf_usdt_cookie(ctx)); }
