// SPDX-License-Identifier: GPL-2.0
/* profile: sample on-CPU stacks at a fixed rate and count them.
 *
 * The loader opens a CPU-clock perf event on each CPU (or the one --cpu
 * names) and attaches this program to them, so it runs HZ times a second on
 * every CPU, in whatever task is running there. It takes that task's user
 * and kernel stacks into the stack map and adds one to the count of the
 * (process, name, user stack, kernel stack) key; user space reads the counts
 * once, at the end. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "filters.bpf.h"
#include "maps.bpf.h"
#include "stacks.bpf.h"
#include "profile/profile.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool include_idle = false;
const volatile bool user_stacks = true;
const volatile bool kernel_stacks = true;

/* Sized by the loader, as the stack map. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct profile_key);
	__type(value, __u64);
} counts SEC(".maps");

/* Samples lost because the counts map was full. */
__u64 samples_dropped = 0;

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct profile_key key = {};

	/* Thread 0 is the idle task of whichever CPU this is. */
	if (!include_idle && (__u32)pid_tgid == 0)
		return 0;
	if (current_filtered_out())
		return 0;

	key.pid = pid_tgid >> 32;
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	key.user_stack_id = user_stacks ? stack_id_of(ctx, BPF_F_USER_STACK) : STACK_ID_NONE;
	key.kernel_stack_id = kernel_stacks ? stack_id_of(ctx, 0) : STACK_ID_NONE;

	if (!map_count(&counts, &key))
		__sync_fetch_and_add(&samples_dropped, 1);
	return 0;
}
