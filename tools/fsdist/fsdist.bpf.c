// SPDX-License-Identifier: GPL-2.0
/* fsdist: the latency of reads, writes, opens and fsyncs on files of one
 * file-system type, as a log2 histogram per operation, timed at the system
 * call (bpf/fs_calls.bpf.h: the calls, the file-system type filter, both
 * tiers). Nothing goes to user space per call: the loader reads and clears
 * the histograms every interval. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "fs_calls.bpf.h"
#include "hist_sums.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "fsdist/fsdist.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 unit_ns = 1000; /* 1000 for usecs, 1000000 for msecs (-m) */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FS_CALL_OP_COUNT);
	__type(key, __u32);
	__type(value, struct fsdist_hist);
} hists SEC(".maps");

HIST_SUMS(__u32)

/* Too large for the stack: the initial value of a new histogram. */
static const struct fsdist_hist empty_hist;

static __always_inline bool fs_call_timed(__u64 lat_ns) { return true; }

static __always_inline void fs_call_done(void *ctx, const struct fs_call *call, struct file *file,
					 long ret, __u64 now_ns, __u64 lat_ns)
{
	__u32 op = call->op;
	struct fsdist_hist *hist;

	if (op >= FS_CALL_OP_COUNT)
		return;
	hist = map_lookup_or_insert(&hists, &op, &empty_hist);
	if (hist) {
		log2_hist_add(hist->slots, FSDIST_SLOTS, lat_ns / unit_ns);
		hist_sum_add(&op, lat_ns);
	}
}

FS_CALLS_PROGRAMS()
