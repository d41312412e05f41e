// SPDX-License-Identifier: GPL-2.0
/* funclatency: the time from a function's entry to its return, per thread,
 * added to a log2 histogram (per process with -P). User functions through a
 * uprobe and a uretprobe; kernel functions through fentry and fexit, else a
 * kprobe and a kretprobe. The targets come from the loader. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "hist_sums.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "funclatency/funclatency.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_process = false;
const volatile __u64 unit_ns = 1; /* 1, 1000 or 1000000 */

/* TID -> entry time. LRU: a thread that never returns (longjmp, exit in the
 * function) leaves its entry to be evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FUNCLATENCY_MAX_KEYS);
	__type(key, __u32);
	__type(value, struct funclatency_hist);
} hists SEC(".maps");

HIST_SUMS(__u32)

static const struct funclatency_hist zero_hist;

static __always_inline int on_entry(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now;

	if (current_filtered_out())
		return 0;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&starts, &tid, &now, BPF_ANY);
	return 0;
}

static __always_inline int on_return(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, key = 0;
	struct funclatency_hist *hist;
	__u64 *start, delta;

	start = bpf_map_lookup_elem(&starts, &tid);
	if (!start)
		return 0;
	delta = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&starts, &tid);
	if (per_process)
		key = pid_tgid >> 32;
	hist = map_lookup_or_insert(&hists, &key, &zero_hist);
	if (!hist)
		return 0;
	if (per_process && !hist->comm[0])
		bpf_get_current_comm(hist->comm, sizeof hist->comm);
	log2_hist_add(hist->slots, FUNCLATENCY_SLOTS, delta / unit_ns);
	hist_sum_add(&key, delta);
	return 0;
}

SEC("uprobe")
int uprobe_entry(struct pt_regs *ctx) { return on_entry(); }

SEC("uretprobe")
int uprobe_return(struct pt_regs *ctx) { return on_return(); }

/* Kernel functions: fentry and fexit, the target set before load. */

SEC("fentry")
int BPF_PROG(fentry_entry) { return on_entry(); }

SEC("fexit")
int BPF_PROG(fexit_return) { return on_return(); }

/* Else kprobes. */

SEC("kprobe")
int kprobe_entry(struct pt_regs *ctx) { return on_entry(); }

SEC("kretprobe")
int kprobe_return(struct pt_regs *ctx) { return on_return(); }
