/* The ID of a cgroup as the kernel's cgroup_id() reports it (the kernfs
 * node ID, which is also its file handle on cgroupfs), read with CO-RE on
 * kernels before and after 5.5. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* Before 5.5 the kernfs node ID was a union of (ino, generation) and id. */
union kernfs_node_id___old {
	struct {
		__u32 ino;
		__u32 generation;
	};
	__u64 id;
} __attribute__((preserve_access_index));

struct kernfs_node___old {
	union kernfs_node_id___old id;
} __attribute__((preserve_access_index));

static __always_inline __u64 cgroup_node_id(struct cgroup *cgrp)
{
	struct kernfs_node *kn = BPF_CORE_READ(cgrp, kn);

	if (bpf_core_type_exists(union kernfs_node_id___old))
		return BPF_CORE_READ((struct kernfs_node___old *)kn, id.id);
	return BPF_CORE_READ(kn, id);
}
