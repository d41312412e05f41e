/* The maps offwaketime's BPF program fills, shared by both sides. */
#pragma once

#include "wakeup_stacks.h"

/* A traced thread that blocked: when, and where (its stacks). */
struct offwaketime_start {
	__u64 start_ns;
	struct task_stacks target;
};

/* What the time off CPU is summed by: where the thread blocked, and who
 * woke it from where. A waker not seen (the wake-up came before tracing
 * began) has pid, tid and comm zero and no stacks. */
struct offwaketime_key {
	struct task_stacks target;
	struct task_stacks waker;
};
