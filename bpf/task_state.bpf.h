/* A task's scheduler state (TASK_RUNNING, TASK_INTERRUPTIBLE, ...), read
 * from the task: the field is __state since 5.14 and state, a long,
 * before. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	return BPF_CORE_READ((struct task_struct___old *)task, state);
}
