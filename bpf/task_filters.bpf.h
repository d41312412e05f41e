/* The shared filters (-p, -t, -u, -c) applied to a task that is not the
 * current one: the task a scheduler event is about (the one woken, or
 * switched in), while current is the waker or the task switched out.
 *
 * It uses the switches and the PID set of filters.bpf.h. The cgroup is
 * matched by its ID (the loader sets filter_cgroup_id; see
 * common/task_filters.h), because bpf_current_task_under_cgroup() looks
 * at current only. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "cgroup_id.bpf.h"
#include "filters.bpf.h"

/* The -c cgroup's ID (kernfs node ID, as name_to_handle_at() reports it). */
const volatile __u64 filter_cgroup_id = 0;

/* Deeper cgroup trees than this are not searched above this many levels. */
#define TASK_FILTER_CGROUP_DEPTH 32

/* Is task in the -c cgroup or below it (cgroup v2)? */
static __always_inline bool task_under_filter_cgroup(struct task_struct *task)
{
	struct cgroup *cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp);

	for (int i = 0; i < TASK_FILTER_CGROUP_DEPTH && cgrp; i++) {
		if (cgroup_node_id(cgrp) == filter_cgroup_id)
			return true;
		/* self is the cgroup's first member: its parent css is the
		 * parent cgroup. */
		cgrp = (struct cgroup *)BPF_CORE_READ(cgrp, self.parent);
	}
	return false;
}

/* True when task should not be traced. */
static __always_inline bool task_filtered_out(struct task_struct *task)
{
	if (filter_tid && BPF_CORE_READ(task, pid) != filter_tid)
		return true;
	if (filter_single_tgid && BPF_CORE_READ(task, tgid) != filter_single_tgid)
		return true;
	if (filter_by_pid) {
		__u32 tgid = BPF_CORE_READ(task, tgid);

		if (!bpf_map_lookup_elem(&filter_pids, &tgid))
			return true;
	}
	if (filter_by_uid && BPF_CORE_READ(task, real_cred, uid.val) != filter_uid)
		return true;
	if (filter_by_cgroup && !task_under_filter_cgroup(task))
		return true;
	return false;
}
