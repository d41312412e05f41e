// SPDX-License-Identifier: GPL-2.0
/* stackcount: calls of functions, tracepoints or USDT probes counted by the
 * stacks that reached them. One program per kind of probe is attached to
 * every probe of a run and tells them apart by the BPF cookie the loader
 * gave each attachment (the probe's number); each call takes its user and
 * kernel stacks into the stack map and adds one to the count of its
 * (probe, process, stacks) key. User space reads the counts at the end or
 * every interval. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "filters.bpf.h"
#include "maps.bpf.h"
#include "stacks.bpf.h"
#include "stackcount/stackcount.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool user_stacks = true;
const volatile bool kernel_stacks = true;
const volatile bool per_process = false; /* -P: the key keeps the process and its name */

/* Sized by the loader, as the stack map. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct stackcount_key);
	__type(value, __u64);
} counts SEC(".maps");

/* Calls not counted because the counts map was full. */
__u64 calls_dropped = 0;

static __always_inline int count_stack(void *ctx, __u64 probe)
{
	struct stackcount_key key = {};

	if (current_filtered_out())
		return 0;
	key.probe = (__u32)probe;
	if (per_process || user_stacks)
		key.pid = bpf_get_current_pid_tgid() >> 32;
	if (per_process)
		bpf_get_current_comm(&key.comm, sizeof(key.comm));
	key.user_stack_id = user_stacks ? stack_id_of(ctx, BPF_F_USER_STACK) : STACK_ID_NONE;
	key.kernel_stack_id = kernel_stacks ? stack_id_of(ctx, 0) : STACK_ID_NONE;
	if (!map_count(&counts, &key))
		__sync_fetch_and_add(&calls_dropped, 1);
	return 0;
}

/* The targets come from the loader (common/attach_plan.cpp attaches an
 * untargeted section to each point's target, with its cookie). */

SEC("uprobe")
int uprobe_stack(struct pt_regs *ctx) { return count_stack(ctx, bpf_get_attach_cookie(ctx)); }

SEC("kprobe")
int kprobe_stack(struct pt_regs *ctx) { return count_stack(ctx, bpf_get_attach_cookie(ctx)); }

SEC("tracepoint")
int tp_stack(void *ctx) { return count_stack(ctx, bpf_get_attach_cookie(ctx)); }

SEC("usdt")
int usdt_stack(struct pt_regs *ctx) { return count_stack(ctx, bpf_usdt_cookie(ctx)); }
