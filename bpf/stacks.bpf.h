/* Stack traces for tools that aggregate by stack (profile, offcputime): one
 * BPF_MAP_TYPE_STACK_TRACE map, sized by the loader (--stack-storage-size,
 * see common/stacks.h), and the count of stacks that could not be stored.
 *
 * A stack ID below zero is kept in the tool's key as it is, so user space can
 * say "[missed kernel stack]" for that sample; the counters here tell why
 * stacks were missed, so the tool can suggest a larger map. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Frames kept per stack: the kernel's default perf_event_max_stack. User
 * space reads the depth back from the map's value size. */
#define STACK_MAX_DEPTH 127

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, STACK_MAX_DEPTH * sizeof(__u64));
	__uint(max_entries, 1); /* the loader sets the size */
} stack_traces SEC(".maps");

/* Read by the loader after the run. */
__u64 stack_id_collisions = 0; /* -EEXIST: the hash bucket held another stack */
__u64 stack_id_no_memory = 0;  /* -ENOMEM: the map was full */

#define STACK_ENOMEM 12
#define STACK_EFAULT 14
#define STACK_EEXIST 17

/* The ID to store for a stack not taken (-K/-U style options): what
 * bpf_get_stackid returns when there is no stack, so user space treats both
 * alike. */
#define STACK_ID_NONE (-STACK_EFAULT)

/* flags: 0 for the kernel stack, BPF_F_USER_STACK for the user stack. */
static __always_inline __s32 stack_id_of(void *ctx, __u64 flags)
{
	long id = bpf_get_stackid(ctx, &stack_traces, flags);

	if (id == -STACK_EEXIST)
		__sync_fetch_and_add(&stack_id_collisions, 1);
	else if (id == -STACK_ENOMEM)
		__sync_fetch_and_add(&stack_id_no_memory, 1);
	return (__s32)id;
}
